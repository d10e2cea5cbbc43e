// Tailwind scans the templates for the classes they use; only those end up in app.css.
/** @type {import('tailwindcss').Config} */
module.exports = {
  content: ["../templates/**/*.html"],
  theme: { extend: {} },
  plugins: [],
};
