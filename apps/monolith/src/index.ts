export { createMonolith } from './create-monolith';
export { MonolithModule } from './monolith.module';
