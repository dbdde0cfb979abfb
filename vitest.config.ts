import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // A file handle left to the garbage collector (DEP0137) fails the file that leaked it.
    setupFiles: ['test/setup/fail-on-leaked-handles.ts'],
    execArgv: ['--expose-gc'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // End-to-end files start servers and child processes; two at a time suits a 2-core machine.
    maxWorkers: 2,
  },
});
