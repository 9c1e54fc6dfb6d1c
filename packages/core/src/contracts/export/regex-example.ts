/**
 * A short string that matches `pattern` (a JSON Schema `pattern`, i.e. an ECMAScript regular expression), or
 * `undefined` when the pattern uses what this small generator does not understand (backreferences, lookaround)
 * or what it produced does not match after all. Deterministic: the same pattern always gives the same string.
 * It understands literals, escapes (`\d \w \s` and escaped characters), `.`, character classes (`[a-z0-9_]`,
 * negated ones), groups (`(...)`, `(?:...)`, named), alternation (the first branch) and quantifiers
 * (`? * + {n} {n,} {n,m}`, taking the minimum, or one for `+`). Unanchored patterns are matched as they are.
 */
export function regexExample(pattern: string): string | undefined {
  let out: string;
  try {
    out = new Generator(pattern).alternation();
  } catch {
    return undefined;
  }
  try {
    return new RegExp(pattern, 'u').test(out) ? out : undefined;
  } catch {
    return new RegExp(pattern).test(out) ? out : undefined;
  }
}

class Unsupported extends Error {}

class Generator {
  private i = 0;
  constructor(private readonly src: string) {}

  /** `a|b|c`: the first branch; the others are parsed and dropped. */
  alternation(): string {
    const first = this.sequence();
    while (this.src[this.i] === '|') {
      this.i++;
      this.sequence();
    }
    return first;
  }

  private sequence(): string {
    let out = '';
    while (this.i < this.src.length && this.src[this.i] !== '|' && this.src[this.i] !== ')') {
      const atom = this.atom();
      out += this.repeat(atom);
    }
    return out;
  }

  /** One atom's example (`undefined` for an anchor, which produces nothing and takes no quantifier). */
  private atom(): (() => string) | undefined {
    const c = this.src[this.i++]!;
    if (c === '^' || c === '$') return undefined;
    if (c === '.') return () => 'a';
    if (c === '[') return this.charClass();
    if (c === '(') {
      if (this.src[this.i] === '?') {
        const kind = this.src[this.i + 1];
        if (kind === ':') this.i += 2;
        else if (kind === '<' && this.src[this.i + 2] !== '=' && this.src[this.i + 2] !== '!') {
          this.i = this.src.indexOf('>', this.i) + 1;
          if (this.i === 0) throw new Unsupported('group name');
        } else throw new Unsupported('lookaround');
      }
      const inner = this.alternation();
      if (this.src[this.i++] !== ')') throw new Unsupported('unclosed group');
      return () => inner;
    }
    if (c === '\\') {
      const e = this.escape();
      return () => e;
    }
    return () => c;
  }

  private escape(): string {
    const e = this.src[this.i++];
    if (e === undefined) throw new Unsupported('trailing backslash');
    if (e === 'd') return '0';
    if (e === 'w') return 'a';
    if (e === 's') return ' ';
    if (e === 'D' || e === 'W' || e === 'S') return '-';
    if (e === 'b' || e === 'B') throw new Unsupported('word boundary');
    if (/[1-9]/.test(e)) throw new Unsupported('backreference');
    if (e === 'n') return '\n';
    if (e === 't') return '\t';
    if (e === 'u' || e === 'x') throw new Unsupported('code point escape');
    return e;
  }

  /** `[...]`: the first character the class allows (for a negated class, one it does not exclude). */
  private charClass(): () => string {
    const negated = this.src[this.i] === '^';
    if (negated) this.i++;
    const members: string[] = [];
    let first = true;
    while (this.i < this.src.length && (this.src[this.i] !== ']' || first)) {
      first = false;
      let c = this.src[this.i++]!;
      if (c === '\\') c = this.escape();
      if (this.src[this.i] === '-' && this.src[this.i + 1] !== ']' && this.i + 1 < this.src.length) {
        this.i++;
        let end = this.src[this.i++]!;
        if (end === '\\') end = this.escape();
        for (let code = c.charCodeAt(0); code <= end.charCodeAt(0) && members.length < 256; code++)
          members.push(String.fromCharCode(code));
      } else members.push(c);
    }
    if (this.src[this.i++] !== ']') throw new Unsupported('unclosed class');
    if (!negated) {
      const pick = members[0];
      if (pick === undefined) throw new Unsupported('empty class');
      return () => pick;
    }
    const pick = [...'aA0-_ x'].find((ch) => !members.includes(ch));
    if (pick === undefined) throw new Unsupported('negated class');
    return () => pick;
  }

  /** Applies the quantifier after an atom, if any: its minimum count (one for `+`). */
  private repeat(atom: (() => string) | undefined): string {
    const q = this.src[this.i];
    let min = 1;
    if (q === '?' || q === '*') {
      min = 0;
      this.i++;
    } else if (q === '+') this.i++;
    else if (q === '{') {
      const m = /^\{(\d+)(,\d*)?\}/.exec(this.src.slice(this.i));
      if (m) {
        min = Number(m[1]);
        this.i += m[0].length;
      }
    }
    if (this.src[this.i] === '?' && q !== undefined && '?*+{'.includes(q)) this.i++; // lazy
    if (atom === undefined) return '';
    return atom().repeat(min);
  }
}
