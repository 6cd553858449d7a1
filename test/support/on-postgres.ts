// Setup of the e2e-pg jest project: test apps get a fresh PostgreSQL database each (see
// test-app.ts) on the server scripts/jest.mjs started (TEST_POSTGRES_URL).
if (!process.env.TEST_POSTGRES_URL) {
  throw new Error('TEST_POSTGRES_URL is not set: run the e2e-pg project through "node scripts/jest.mjs e2e-pg" (npm test does)');
}
process.env.TEST_DATABASE = 'postgres';
