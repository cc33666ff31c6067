import { BadRequestException, ValidationError, ValidationPipe } from '@nestjs/common';
import { simpleError } from '@posthooks/contracts';

/**
 * The global pipe: unknown fields are refused, types are converted, and the error is
 * `{"error":"..."}`. A controller whose contract wants another body (the Stitch hooks
 * API) passes its own exceptionFactory.
 */
export function contractValidationPipe(exceptionFactory?: (errors: ValidationError[]) => unknown): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    exceptionFactory:
      exceptionFactory ??
      ((errors) => new BadRequestException(simpleError(errors.flatMap((e) => Object.values(e.constraints ?? { [e.property]: `${e.property} is invalid` })).join('; ')))),
  });
}
