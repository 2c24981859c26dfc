// A small C tokenizer for the cert_chain.c preview: every character lands in exactly one token,
// so joining the tokens' text gives back the source unchanged.

export type TokenKind =
  | "comment"
  | "preprocessor"
  | "string"
  | "char"
  | "number"
  | "keyword"
  | "type"
  | "constant"
  | "identifier"
  | "punctuation"
  | "space";

export interface Token {
  kind: TokenKind;
  text: string;
}

const KEYWORDS = new Set([
  "auto", "break", "case", "const", "continue", "default", "do", "else", "enum", "extern", "for", "goto", "if",
  "inline", "register", "restrict", "return", "sizeof", "static", "struct", "switch", "typedef", "union",
  "volatile", "while",
]);

const TYPES = new Set([
  "void", "char", "short", "int", "long", "float", "double", "signed", "unsigned", "bool", "_Bool", "size_t",
  "uint8_t", "uint16_t", "uint32_t", "uint64_t", "int8_t", "int16_t", "int32_t", "int64_t",
]);

/** `atcacert_def_t`, `atcacert_cert_element_t`, … — any `_t` name reads as a type. */
const isTypeName = (word: string) => TYPES.has(word) || /^[A-Za-z_]\w*_t$/.test(word);
/** Upper-case names (`DEVZONE_DATA`, `CERTTYPE_X509`, `NULL`) are enum constants and macros. */
const isConstant = (word: string) => /^[A-Z][A-Z0-9_]*$/.test(word) && /[A-Z]/.test(word);

// Ordered: the first pattern that matches at the current position wins.
const RULES: [TokenKind | "word", RegExp][] = [
  ["space", /\s+/y],
  ["comment", /\/\*[\s\S]*?(?:\*\/|$)/y],
  ["comment", /\/\/[^\n]*/y],
  ["string", /"(?:[^"\\\n]|\\.)*"?/y],
  ["char", /'(?:[^'\\\n]|\\.)*'?/y],
  ["number", /(?:0[xX][0-9a-fA-F]+|0[bB][01]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)[uUlLfF]*/y],
  ["word", /[A-Za-z_]\w*/y],
  ["punctuation", /[^\sA-Za-z0-9_"'/]+|\//y],
];

/** A preprocessor line: from `#` at the start of a line to its end (backslash continuations included). */
const PREPROCESSOR = /#(?:[^\n\\]|\\[\s\S])*/y;

function classifyWord(word: string): TokenKind {
  if (KEYWORDS.has(word)) return "keyword";
  if (isTypeName(word)) return "type";
  if (isConstant(word)) return "constant";
  return "identifier";
}

function atLineStart(source: string, index: number): boolean {
  for (let i = index - 1; i >= 0; i -= 1) {
    const c = source[i];
    if (c === "\n") return true;
    if (c !== " " && c !== "\t") return false;
  }
  return true;
}

/** Splits C source into tokens; adjacent tokens of the same kind are merged to keep the DOM small. */
export function tokenizeC(source: string): Token[] {
  const tokens: Token[] = [];
  const push = (kind: TokenKind, text: string) => {
    const last = tokens[tokens.length - 1];
    if (last && last.kind === kind && (kind === "space" || kind === "punctuation")) last.text += text;
    else tokens.push({ kind, text });
  };
  let index = 0;
  while (index < source.length) {
    if (source[index] === "#" && atLineStart(source, index)) {
      PREPROCESSOR.lastIndex = index;
      const match = PREPROCESSOR.exec(source)!;
      // A comment after the directive stays a comment.
      const comment = match[0].search(/\/[*/]/);
      const text = comment > 0 ? match[0].slice(0, comment) : match[0];
      push("preprocessor", text);
      index += text.length;
      continue;
    }
    let matched = false;
    for (const [kind, pattern] of RULES) {
      pattern.lastIndex = index;
      const match = pattern.exec(source);
      if (!match || match[0].length === 0) continue;
      push(kind === "word" ? classifyWord(match[0]) : kind, match[0]);
      index += match[0].length;
      matched = true;
      break;
    }
    if (!matched) {
      push("punctuation", source[index]);
      index += 1;
    }
  }
  return tokens;
}

/** Tokens grouped by line (for line numbers); a token spanning lines is split at each newline. */
export function tokenLines(source: string): Token[][] {
  const lines: Token[][] = [[]];
  for (const token of tokenizeC(source)) {
    const parts = token.text.split("\n");
    parts.forEach((part, i) => {
      if (i > 0) lines.push([]);
      if (part) lines[lines.length - 1].push({ kind: token.kind, text: part });
    });
  }
  if (source.endsWith("\n")) lines.pop();
  return lines;
}
