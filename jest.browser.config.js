// `npm run test:browser`: the admin pages in a real browser (Playwright driving the system's Chromium), apart from
// `npm test`. Screenshots go to test-results/browser/ (gitignored; CI keeps the folder).
import base from './jest.config.js';

/** @type {import('jest').Config} */
export default {
  ...base,
  testMatch: ['<rootDir>/test/browser/**/*.browser.ts'],
  testTimeout: 60000,
};
