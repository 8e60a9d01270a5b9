// Copy the NHS.UK frontend's compiled module and assets, and our own scripts, into static/.
import { cpSync, mkdirSync } from "node:fs";

const source = "node_modules/nhsuk-frontend/dist/nhsuk";
mkdirSync("static/compiled/js", { recursive: true });
cpSync(`${source}/nhsuk-frontend.min.js`, "static/compiled/js/nhsuk-frontend.min.js");
cpSync("frontend/js", "static/compiled/js", { recursive: true });
cpSync(`${source}/assets`, "static/compiled/nhsuk/assets", { recursive: true });
