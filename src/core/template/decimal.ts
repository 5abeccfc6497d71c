/**
 * Decimal digits of a float64, for Go's %e %f %g. Shortest digits come from JS (the same unique
 * shortest round-trip digits Go uses); fixed precision is rounded from the exact binary value,
 * half to even, as Go's strconv does (JS's toFixed rounds exact ties up: 0.125 → "0.13", Go "0.12").
 */

export interface Decimal {
  /** Significant digits, no leading or trailing zeros ('' for zero). */
  d: string;
  /** Position of the decimal point: value = 0.d × 10^dp. */
  dp: number;
}

/** The exact decimal expansion of a finite, non-negative float. */
export function exactDecimal(x: number): Decimal {
  if (x === 0) return { d: '', dp: 0 };
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  let exp = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  if (exp === 0) exp = 1;
  else mant |= 1n << 52n;
  exp -= 1075;
  // mant × 2^exp = mant × 5^-exp / 10^-exp when exp < 0.
  const digits = exp >= 0 ? (mant << BigInt(exp)).toString() : (mant * 5n ** BigInt(-exp)).toString();
  const dp = exp >= 0 ? digits.length : digits.length + exp;
  return { d: digits.replace(/0+$/, ''), dp };
}

/** The shortest digits that read back as x (finite, non-negative). */
export function shortestDecimal(x: number): Decimal {
  if (x === 0) return { d: '', dp: 0 };
  const [mant, e] = x.toExponential().split('e') as [string, string];
  return { d: mant.replace('.', '').replace(/0+$/, ''), dp: Number(e) + 1 };
}

/** Round to nd significant digits, half to even (Go's decimal.Round). */
export function roundDecimal(a: Decimal, nd: number): Decimal {
  if (nd < 0 || nd >= a.d.length) return a;
  const digit = a.d.charCodeAt(nd) - 48;
  const halfway = digit === 5 && nd + 1 === a.d.length;
  const up = halfway ? nd > 0 && (a.d.charCodeAt(nd - 1) - 48) % 2 === 1 : digit >= 5;
  if (!up) return { d: a.d.slice(0, nd).replace(/0+$/, ''), dp: a.dp };
  for (let i = nd - 1; i >= 0; i--) {
    if (a.d[i] !== '9') return { d: a.d.slice(0, i) + String.fromCharCode(a.d.charCodeAt(i) + 1), dp: a.dp };
  }
  return { d: '1', dp: a.dp + 1 };
}

function fmtE(a: Decimal, prec: number, e: string): string {
  let out = a.d[0] ?? '0';
  if (prec > 0) out += `.${a.d.slice(1, prec + 1).padEnd(prec, '0')}`;
  const exp = a.d.length === 0 ? 0 : a.dp - 1;
  const abs = Math.abs(exp);
  return `${out}${e}${exp < 0 ? '-' : '+'}${abs < 10 ? '0' : ''}${abs}`;
}

function fmtF(a: Decimal, prec: number): string {
  let out = a.dp > 0 ? a.d.slice(0, a.dp).padEnd(a.dp, '0') : '0';
  if (prec > 0) {
    out += '.';
    for (let i = 1; i <= prec; i++) {
      const j = a.dp + i - 1;
      out += j >= 0 && j < a.d.length ? a.d[j] : '0';
    }
  }
  return out;
}

/**
 * strconv.FormatFloat(x, verb, prec, 64) for a finite non-negative x and verb e, E, f, F, g, G;
 * prec -1 means the shortest representation.
 */
export function formatFloat(x: number, verb: string, prec: number): string {
  const shortest = prec < 0;
  const lower = verb.toLowerCase();
  let digs: Decimal;
  let p = prec;
  if (shortest) {
    digs = shortestDecimal(x);
    p =
      lower === 'e'
        ? Math.max(digs.d.length - 1, 0)
        : lower === 'f'
          ? Math.max(digs.d.length - digs.dp, 0)
          : digs.d.length;
  } else {
    const exact = exactDecimal(x);
    if (lower === 'e') digs = roundDecimal(exact, p + 1);
    else if (lower === 'f') digs = roundDecimal(exact, exact.dp + p);
    else {
      if (p === 0) p = 1;
      digs = roundDecimal(exact, p);
    }
  }
  const e = verb === 'E' || verb === 'G' ? 'E' : 'e';
  if (lower === 'e') return fmtE(digs, p, e);
  if (lower === 'f') return fmtF(digs, p);
  let eprec = p;
  if (eprec > digs.d.length && digs.d.length >= digs.dp) eprec = digs.d.length;
  // Go decides between %e and %f for shortest output as if the precision were 6.
  if (shortest) eprec = 6;
  const exp = digs.dp - 1;
  if (exp < -4 || exp >= eprec) return fmtE(digs, Math.min(p, digs.d.length) - 1, e);
  return fmtF(digs, Math.max((p > digs.dp ? digs.d.length : p) - digs.dp, 0));
}
