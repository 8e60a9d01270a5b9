// Copy the NHS.UK frontend's compiled module and assets next to our own script.
import { cpSync, mkdirSync } from "node:fs";

const source = "node_modules/nhsuk-frontend/dist/nhsuk";
mkdirSync("static/compiled/js", { recursive: true });
cpSync(`${source}/nhsuk-frontend.min.js`, "static/compiled/js/nhsuk-frontend.min.js");
cpSync("frontend/js/app.mjs", "static/compiled/js/app.mjs");
cpSync("frontend/js/enable.js", "static/compiled/js/enable.js");
cpSync(`${source}/assets`, "static/compiled/nhsuk/assets", { recursive: true });
