import { redactUrl } from './redact-url';

describe('redactUrl', () => {
  it('hides user and password', () => {
    expect(redactUrl('postgres://app:s3cret@db.example:5432/posthooks?sslmode=require')).toBe('postgres://***@db.example:5432/posthooks?sslmode=require');
  });

  it('hides a NATS token in the user part, in every URL of a list', () => {
    expect(redactUrl('nats://tok3n@a:4222,nats://u:p@b:4222')).toBe('nats://***@a:4222,nats://***@b:4222');
  });

  it('leaves a URL without credentials as it is', () => {
    expect(redactUrl('postgres://127.0.0.1:1/posthooks')).toBe('postgres://127.0.0.1:1/posthooks');
  });

  it('masks credentials of a string that is not a valid URL', () => {
    expect(redactUrl('postgres://app:s3cret@db:notaport/x')).toBe('postgres://***@db:notaport/x');
  });
});
