import {
  addQuantities,
  compareQuantities,
  formatQuantity,
  maxQuantity,
  minQuantity,
  parseQuantity,
  subtractQuantities,
} from "../../src/tenant/quantity.js";

const GI = 1024n ** 3n;

describe("parseQuantity", () => {
  const cases: [text: string, milli: bigint][] = [
    ["0", 0n],
    ["0m", 0n],
    ["-0", 0n],
    ["100m", 100n],
    ["1", 1000n],
    ["+1", 1000n],
    ["-1", -1000n],
    ["-500m", -500n],
    ["0.5", 500n],
    [".5", 500n],
    ["1.", 1000n],
    ["1.5", 1500n],
    ["250m", 250n],
    ["1k", 1_000_000n],
    ["1M", 1_000_000_000n],
    ["1G", 1_000_000_000_000n],
    ["1T", 10n ** 15n],
    ["1P", 10n ** 18n],
    ["1E", 10n ** 21n],
    ["1Ki", 1_024_000n],
    ["2Mi", 2n * 1024n ** 2n * 1000n],
    ["1Gi", 1_073_741_824_000n],
    ["1.5Gi", (3n * GI * 1000n) / 2n],
    ["1Ti", 1024n ** 4n * 1000n],
    ["1Pi", 1024n ** 5n * 1000n],
    ["1Ei", 1024n ** 6n * 1000n],
    ["0.0001Ki", 103n],
    ["1e3", 1_000_000n],
    ["2E6", 2_000_000_000n],
    ["1e+3", 1_000_000n],
    ["1e-3", 1n],
    ["1.5e3", 1_500_000n],
    ["1000000n", 1n],
    ["1000u", 1n],
    ["10n", 1n],
    ["1u", 1n],
    ["1500000n", 2n],
    ["-10n", -1n],
    ["1e-1000000000", 1n],
    ["0e999999", 0n],
    ["12345678901234567890123", 12345678901234567890123000n],
  ];

  test.each(cases)("parseQuantity %s", (text, milli) => {
    expect(parseQuantity(text)).toBe(milli);
  });

  const invalid = [
    "",
    "abc",
    ".",
    "1.5.5",
    "1 ",
    " 1",
    "1K",
    "1kb",
    "1i",
    "1e",
    "1e1.5",
    "--1",
    "1Gi1",
    "0x10",
    "1e9999",
  ];

  test.each(invalid)("parseQuantity rejects %j", (text) => {
    expect(() => parseQuantity(text)).toThrow(`invalid quantity "${text}"`);
  });

  test("parseQuantity error explains the format", () => {
    expect(() => parseQuantity("abc")).toThrow(
      'invalid quantity "abc": expected a number with an optional suffix such as 500m, 2Gi or 1e3',
    );
  });

  test("parseQuantity rejects huge exponent", () => {
    expect(() => parseQuantity("1e9999")).toThrow("exponent out of range");
  });
});

describe("formatQuantity", () => {
  const cases: [milli: bigint, likeFormat: string | undefined, text: string][] = [
    [0n, undefined, "0"],
    [0n, "1Gi", "0"],
    [1000n, undefined, "1"],
    [4000n, "4", "4"],
    [1500n, undefined, "1500m"],
    [1n, undefined, "1m"],
    [-500n, undefined, "-500m"],
    [-2000n, undefined, "-2"],
    [GI * 1000n, "8Gi", "1Gi"],
    [GI * 1000n, undefined, "1073741824"],
    [GI * 1000n, "1G", "1073741824"],
    [(3n * GI * 1000n) / 2n, "8Gi", "1536Mi"],
    [1_024_000n, "1Mi", "1Ki"],
    [1_000_000n, "1Mi", "1000"],
    [512_000n, "1Ki", "512"],
    [1024n ** 6n * 2000n, "1Ki", "2Ei"],
    [-GI * 2000n, "1Gi", "-2Gi"],
    [1_536_500n, "1Ki", "1536500m"],
  ];

  test.each(cases)("formatQuantity %p like %p", (milli, likeFormat, text) => {
    expect(formatQuantity(milli, likeFormat)).toBe(text);
  });
});

describe("quantity round trip", () => {
  const texts = ["0", "100m", "1", "1500m", "-250m", "1Ki", "2Mi", "1Gi", "1536Mi", "3Ti", "7Ei", "123456789"];

  test.each(texts)("round trip of %s keeps the text", (text) => {
    expect(formatQuantity(parseQuantity(text), text)).toBe(text);
  });

  const equivalents: [text: string, canonical: string][] = [
    ["1e3", "1000"],
    ["0.5", "500m"],
    ["1.5Gi", "1536Mi"],
    ["1024Ki", "1Mi"],
    ["2000m", "2"],
    ["10n", "1m"],
  ];

  test.each(equivalents)("round trip of %s gives %s", (text, canonical) => {
    expect(formatQuantity(parseQuantity(text), text)).toBe(canonical);
    expect(parseQuantity(canonical)).toBe(parseQuantity(text));
  });
});

describe("quantity arithmetic", () => {
  test("compareQuantities orders mixed suffixes", () => {
    expect(compareQuantities("1Gi", "1G")).toBe(1);
    expect(compareQuantities("500m", "0.5")).toBe(0);
    expect(compareQuantities("999m", 1000n)).toBe(-1);
  });

  test("compareQuantities sorts an array", () => {
    const sorted = ["1Gi", "100Mi", "1", "2k"].sort(compareQuantities);
    expect(sorted).toEqual(["1", "2k", "100Mi", "1Gi"]);
  });

  test("addQuantities sums exactly", () => {
    expect(addQuantities("100m", "200m", "0.7")).toBe(1000n);
    expect(addQuantities("0.1", "0.2")).toBe(300n);
    expect(addQuantities()).toBe(0n);
    expect(addQuantities("1Gi", 1n)).toBe(GI * 1000n + 1n);
  });

  test("subtractQuantities may go negative", () => {
    expect(subtractQuantities("1", "250m")).toBe(750n);
    expect(subtractQuantities("250m", "1")).toBe(-750n);
    expect(subtractQuantities("1Gi", "512Mi")).toBe(GI * 500n);
  });

  test("minQuantity and maxQuantity pick by value", () => {
    expect(minQuantity("1Gi", "1G", "2Gi")).toBe(10n ** 12n);
    expect(maxQuantity("1Gi", "1G", "2Gi")).toBe(2n * GI * 1000n);
    expect(minQuantity("5")).toBe(5000n);
    expect(maxQuantity(-1n, "-1")).toBe(-1n);
  });

  test("arithmetic rejects invalid strings", () => {
    expect(() => addQuantities("1", "lots")).toThrow('invalid quantity "lots"');
    expect(() => compareQuantities("1x", "1")).toThrow('invalid quantity "1x"');
  });
});
