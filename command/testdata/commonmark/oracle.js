// Generates Markdown bodies and, for each, the line of its first /rollback
// command as CommonMark's reference implementation shows it: the body is
// rendered by commonmark.js, the HTML is parsed by parse5 (the HTML5 parser
// of jsdom) as a browser parses it, and a command shows when it is in a text
// node outside the elements that hide text (hidingTags in html.go).
//
// The output is cases.json, which TestParseAgreesWithCommonMark reads.
// Regenerate it with:
//
//	npm install commonmark@0.31.2 parse5@7 && node oracle.js > cases.json
"use strict";
const commonmark = require("commonmark");
const parse5 = require("parse5");

// mulberry32: a small seeded generator, so that the output is reproducible.
function rng(seed) {
  return function () {
    seed |= 0; seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = rng(20260101);
const pick = (a) => a[Math.floor(random() * a.length)];

// Whole lines that matter to block structure.
const blockLines = [
  "/rollback abc1234", "/rollback web", "  /rollback help", "   /rollback x y", "    /rollback abc1234", "\t/rollback",
  "text", "more text", "", "", "", "```", "~~~", "````", "``` sh", "~~~ a`b", "```x`", "  ```", "    ```",
  "> quote", ">", "> > q", "> ```", "> <!--", "- item", "- ```", "- > q", "1. x", "2. ```", "1) ```", "- <!--", "  - ```",
  "  text", "   ", "# head", "---", "***", "===", "-", "<!--", "-->", "x <!-- y", "y --> z", "<!-- a -->", "<!-->",
  "<pre>", "</pre>", "<div>", "</div>", "<details>", "<span>", "<span x", "<img src=\"a\">", "<?php", "?>", ">",
  "`code", "code`", "\\/rollback x", "<script>", "</script>", "      code", "  /rollback abc1234",
];
// Pieces that lines are made of.
const tokens = [
  "-", "*", "+", "1.", "2)", "10.", ">", ">>", "> >", "```", "````", "~~~", "`", "``", "\\`", "\\\\", "x", "text", "a b",
  "<!--", "-->", "<!-->", "<pre>", "</pre>", "<code>", "</code>", "<div>", "</div>", "<span>", "<?", "?>", ">",
  "#", "##", "---", "===", "***", "/rollback", "/rollback abc1234", "<br/>", "<a href=\"x\">", "</a>", "*em*",
];
const indents = ["", "", "", " ", "  ", "   ", "    ", "\t", " \t", "      ", "  \t"];

function fromLines() {
  const lines = [];
  for (let n = 1 + Math.floor(random() * 7); n > 0; n--) lines.push(pick(blockLines));
  return lines;
}

function fromTokens() {
  const lines = [];
  for (let n = 1 + Math.floor(random() * 8); n > 0; n--) {
    const r = random();
    if (r < 0.15) { lines.push(""); continue; }
    if (r < 0.35) { lines.push(pick(indents.slice(0, 6)) + "/rollback abc1234"); continue; }
    const parts = [];
    for (let k = 1 + Math.floor(random() * 3); k > 0; k--) parts.push(pick(tokens));
    lines.push(pick(indents) + parts.join(pick([" ", "", "  "])));
  }
  return lines;
}

const commandLine = /^ {0,3}\/rollback(?:[ \t]|$)/i;
const marker = "/zqxjkwvb"; // as long as "/rollback", and nowhere else
const parser = new commonmark.Parser();
const renderer = new commonmark.HtmlRenderer();

const hiding = new Set(["pre", "code", "kbd", "samp", "tt", "blockquote", "script", "style",
  "textarea", "xmp", "listing", "plaintext", "template", "noscript"]);

// shown reports whether line j of lines, with its command replaced by the
// marker, shows as text.
function shown(lines, j) {
  const marked = lines.slice();
  marked[j] = marked[j].replace(/\/rollback/i, marker);
  const html = renderer.render(parser.parse(marked.join("\n")));
  const visit = (node, hidden) => {
    if (node.nodeName === "#text") return !hidden && node.value.includes(marker);
    const h = hidden || hiding.has(node.nodeName);
    return (node.childNodes || []).some((child) => visit(child, h));
  };
  return visit(parse5.parse(html), false);
}

const cases = [];
for (let i = 0; i < 3000; i++) {
  const lines = i % 2 ? fromTokens() : fromLines();
  if (!lines.some((l) => commandLine.test(l))) lines.push("/rollback abc1234");
  let line = 0;
  for (let j = 0; j < lines.length && line === 0; j++) {
    if (commandLine.test(lines[j]) && shown(lines, j)) line = j + 1;
  }
  cases.push({ body: lines.join("\n"), line });
}
process.stdout.write("[\n" + cases.map((c) => JSON.stringify(c)).join(",\n") + "\n]\n");
