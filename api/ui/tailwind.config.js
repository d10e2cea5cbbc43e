// Tailwind scans the templates (and the calendar script, which adds classes) for the
// classes they use; only those end up in app.css.
/** @type {import('tailwindcss').Config} */
module.exports = {
  content: ["../templates/**/*.html", "../static/calendar.js"],
  theme: { extend: {} },
  plugins: [],
};
