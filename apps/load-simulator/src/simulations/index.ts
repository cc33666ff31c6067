export { SimulationsModule } from './simulations.module';
export { Schedules1764000300000 } from '../database/migrations/1764000300000-schedules';
