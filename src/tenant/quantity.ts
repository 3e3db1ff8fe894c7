// Exact Kubernetes resource quantities. A quantity is held as a bigint count of milli-units (1 cpu = 1000n,
// 1Gi = 1073741824000n), so sums and comparisons never drift the way floating point would.
//
// parseQuantity accepts the grammar of k8s.io/apimachinery/pkg/api/resource: an optional sign, a decimal number
// ("1", "1.5", ".5", "1."), then one suffix out of n u m "" k M G T P E (powers of 10), Ki Mi Gi Ti Pi Ei
// (powers of 1024) or an exponent e<int> / E<int>. A value finer than a milli-unit ("10n", "1u") rounds away from
// zero to the next milli-unit, as Kubernetes rounds quota amounts up, so a tiny request is never counted as 0.
// formatQuantity writes the canonical form the API server accepts: "0", plain integers, "<n>m", or a binary suffix.

/** A quantity as milli-units or as the Kubernetes string form; string arguments go through parseQuantity. */
export type QuantityValue = bigint | string;

const MILLI_PER_UNIT = 1000n;

// Decimal SI suffixes and their power of ten.
const DECIMAL_SUFFIXES: Readonly<Record<string, number>> = {
  n: -9,
  u: -6,
  m: -3,
  "": 0,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};

// Binary SI suffixes and their power of two, largest first so formatQuantity picks the largest exact one.
const BINARY_SUFFIXES: readonly (readonly [suffix: string, powerOfTwo: number])[] = [
  ["Ei", 60],
  ["Pi", 50],
  ["Ti", 40],
  ["Gi", 30],
  ["Mi", 20],
  ["Ki", 10],
];

const QUANTITY_PATTERN = /^([+-]?)([0-9]*)(?:\.([0-9]*))?(.*)$/;
const EXPONENT_PATTERN = /^[eE]([+-]?[0-9]+)$/;
const BINARY_SUFFIX_PATTERN = /[KMGTPE]i$/;

// Kubernetes stores huge quantities as arbitrary-precision decimals, but no real resource amount comes near this.
// The cap keeps a hostile "1e999999999" from making bigint allocate gigabytes.
const MAX_POWER_OF_TEN = 1000;

function invalidQuantity(text: string, detail?: string): Error {
  const hint = detail ?? "expected a number with an optional suffix such as 500m, 2Gi or 1e3";
  return new Error(`invalid quantity "${text}": ${hint}`);
}

/** Parses a Kubernetes quantity into milli-units. Throws an Error that names the value when it is not valid. */
export function parseQuantity(text: string): bigint {
  const match = QUANTITY_PATTERN.exec(text);
  if (match === null) {
    throw invalidQuantity(text);
  }
  const [, sign = "", integerDigits = "", fractionDigits = "", suffix = ""] = match;
  if (integerDigits === "" && fractionDigits === "") {
    throw invalidQuantity(text);
  }

  let powerOfTen: number;
  let powerOfTwo = 0;
  const decimalPower = DECIMAL_SUFFIXES[suffix];
  const binarySuffix = BINARY_SUFFIXES.find(([name]) => name === suffix);
  const exponentMatch = EXPONENT_PATTERN.exec(suffix);
  if (decimalPower !== undefined) {
    powerOfTen = decimalPower;
  } else if (binarySuffix !== undefined) {
    powerOfTen = 0;
    powerOfTwo = binarySuffix[1];
  } else if (exponentMatch?.[1] !== undefined) {
    // Number() of a long digit string is inexact but still far beyond the cap, which is all that matters here.
    powerOfTen = Number(exponentMatch[1]);
  } else {
    throw invalidQuantity(text);
  }

  // The value is digits * 2^powerOfTwo * 10^(powerOfTen - fraction length), and milli-units add 10^3.
  const digits = BigInt(integerDigits + fractionDigits);
  const scaledPower = powerOfTen - fractionDigits.length + 3;
  const numerator = digits << BigInt(powerOfTwo);
  let magnitude: bigint;
  if (scaledPower >= 0) {
    if (scaledPower > MAX_POWER_OF_TEN && digits !== 0n) {
      throw invalidQuantity(
        text,
        `exponent out of range, quantities up to about 1e${MAX_POWER_OF_TEN - 3} are supported`,
      );
    }
    magnitude = numerator * 10n ** BigInt(Math.min(scaledPower, MAX_POWER_OF_TEN));
  } else {
    magnitude = divideRoundingUp(numerator, -scaledPower);
  }
  return sign === "-" ? -magnitude : magnitude;
}

// Divides a non-negative numerator by 10^power and rounds a non-zero remainder up.
function divideRoundingUp(numerator: bigint, power: number): bigint {
  if (numerator === 0n) {
    return 0n;
  }
  // A divisor with more digits than the numerator leaves a quotient below 1, which rounds up to 1.
  if (power > numerator.toString().length) {
    return 1n;
  }
  const divisor = 10n ** BigInt(power);
  const quotient = numerator / divisor;
  return quotient * divisor === numerator ? quotient : quotient + 1n;
}

/**
 * Formats milli-units as a canonical quantity string. When `likeFormat` carries a binary suffix (for example
 * "8Gi") and the value is a whole multiple of 1Ki, the largest exact binary suffix is used ("1536Mi").
 * Otherwise whole units are written as plain integers ("4") and anything else in milli-units ("1500m").
 */
export function formatQuantity(milli: bigint, likeFormat?: string): string {
  if (milli === 0n) {
    return "0";
  }
  if (likeFormat !== undefined && BINARY_SUFFIX_PATTERN.test(likeFormat)) {
    for (const [suffix, powerOfTwo] of BINARY_SUFFIXES) {
      const unit = MILLI_PER_UNIT << BigInt(powerOfTwo);
      if (milli % unit === 0n) {
        return `${milli / unit}${suffix}`;
      }
    }
  }
  if (milli % MILLI_PER_UNIT === 0n) {
    return `${milli / MILLI_PER_UNIT}`;
  }
  return `${milli}m`;
}

function toMilli(value: QuantityValue): bigint {
  return typeof value === "bigint" ? value : parseQuantity(value);
}

/** Compares two quantities and returns -1, 0 or 1, so it can be passed to Array.prototype.sort. */
export function compareQuantities(a: QuantityValue, b: QuantityValue): number {
  const left = toMilli(a);
  const right = toMilli(b);
  if (left < right) {
    return -1;
  }
  return left > right ? 1 : 0;
}

/** Adds quantities and returns the sum in milli-units; no arguments sum to 0n. */
export function addQuantities(...values: QuantityValue[]): bigint {
  let sum = 0n;
  for (const value of values) {
    sum += toMilli(value);
  }
  return sum;
}

/** Subtracts `b` from `a` and returns milli-units, which may be negative. */
export function subtractQuantities(a: QuantityValue, b: QuantityValue): bigint {
  return toMilli(a) - toMilli(b);
}

/** Returns the smallest of the quantities in milli-units. */
export function minQuantity(first: QuantityValue, ...rest: QuantityValue[]): bigint {
  let min = toMilli(first);
  for (const value of rest) {
    const milli = toMilli(value);
    if (milli < min) {
      min = milli;
    }
  }
  return min;
}

/** Returns the largest of the quantities in milli-units. */
export function maxQuantity(first: QuantityValue, ...rest: QuantityValue[]): bigint {
  let max = toMilli(first);
  for (const value of rest) {
    const milli = toMilli(value);
    if (milli > max) {
      max = milli;
    }
  }
  return max;
}
