// Runs the reference validator (@ban-team/validateur-bal, installed in
// tests/js/node_modules) on every file given, in one node process, and
// prints one JSON line per file:
//   {"file", "parseOk", "profile", "valid", "rowCodes": [every code on a row],
//    "rowErrors": [row codes at level E], "fileErrors": [file codes at level E]}
// valid = the CSV parses and no row nor file-level code is an error for the
// profile the reference picked from the header (or --profile P).
// The reference asks the BAN API for each commune's id; offline that call
// fails and it carries on without it (which we rely on: same verdicts).
const path = require('path');
const fs = require('fs');
const mod = path.join(__dirname, '..', 'js', 'node_modules', '@ban-team', 'validateur-bal');
const { validate } = require(mod);

// Keep the process quiet: the reference logs one line per unreachable commune.
console.error = () => {};

async function main() {
  const args = process.argv.slice(2);
  let profile;
  const files = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--profile') profile = args[++i];
    else files.push(args[i]);
  }
  for (const file of files) {
    const out = { file };
    try {
      const buf = fs.readFileSync(file);
      const r = await validate(buf, profile ? { profile } : {});
      out.parseOk = r.parseOk;
      if (!r.parseOk) {
        out.valid = false;
        out.parseErrors = [...new Set(r.parseErrors.map((e) => e.code))].sort();
      } else {
        out.profile = r.profile;
        const rowCodes = new Set(), rowErrors = new Set();
        let invalidRows = 0;
        for (const row of r.rows) {
          if (!row.isValid) invalidRows++;
          for (const e of row.errors) {
            rowCodes.add(e.code);
            if (e.level === 'E') rowErrors.add(e.code);
          }
        }
        const fileErrors = r.profilErrors.filter((e) => e.level === 'E' && !rowCodes.has(e.code)).map((e) => e.code);
        out.rows = r.rows.length;
        out.invalidRows = invalidRows;
        out.valid = invalidRows === 0 && !r.profilErrors.some((e) => e.level === 'E');
        out.rowCodes = [...rowCodes].sort();
        out.rowErrors = [...rowErrors].sort();
        out.fileErrors = [...new Set(fileErrors)].sort();
      }
    } catch (e) {
      out.exception = String(e && e.message ? e.message : e);
    }
    process.stdout.write(JSON.stringify(out) + '\n');
  }
}
main();
