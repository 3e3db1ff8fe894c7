// Three projects: pure unit tests, e2e tests that share one test cluster, and disruptive tests (restarts,
// compaction, killed processes) that `npm run test:e2e` runs on their own, one file at a time.
const transform = {
  "^.+\\.ts$": ["ts-jest", { useESM: true, tsconfig: "tsconfig.json" }],
};
const common = {
  extensionsToTreatAsEsm: [".ts"],
  moduleNameMapper: { "^(\\.{1,2}/.*)\\.js$": "$1" },
  testEnvironment: "node",
  transform,
};

export default {
  // Generous, because e2e tests wait for a real cluster on a shared machine; benchmarks measure speed.
  testTimeout: 180_000,
  projects: [
    { ...common, displayName: "unit", testMatch: ["<rootDir>/test/unit/**/*.test.ts"] },
    {
      ...common,
      displayName: "e2e",
      testMatch: ["<rootDir>/test/e2e/**/*.test.ts"],
      testPathIgnorePatterns: ["/disruptive/"],
      globalSetup: "<rootDir>/test/e2e/globalSetup.js",
      globalTeardown: "<rootDir>/test/e2e/globalTeardown.js",
    },
    {
      ...common,
      displayName: "disruptive",
      testMatch: ["<rootDir>/test/e2e/disruptive/**/*.test.ts"],
    },
  ],
};
