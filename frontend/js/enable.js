// Mark the page as scripted before it paints, as the NHS.UK template does inline
// (inline scripts are refused by our Content Security Policy).
document.body.className += " js-enabled" + ("noModule" in HTMLScriptElement.prototype ? " nhsuk-frontend-supported" : "");
