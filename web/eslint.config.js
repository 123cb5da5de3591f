// ESLint for Chinwag's own browser code: recommended rules, browser globals, and no way to
// turn text into markup (chat text is always rendered as text).
import js from '@eslint/js';
import globals from 'globals';

const noMarkup = [
  { property: 'innerHTML', message: 'Render text with textContent; build elements with createElement.' },
  { property: 'outerHTML', message: 'Render text with textContent; build elements with createElement.' },
  { property: 'insertAdjacentHTML', message: 'Build elements with createElement.' },
  { object: 'document', property: 'write', message: 'Build elements with createElement.' },
];

export default [
  { ignores: ['node_modules/**'] },
  js.configs.recommended,
  {
    files: ['**/*.js'],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
      globals: { ...globals.browser },
    },
    rules: {
      'no-restricted-properties': ['error', ...noMarkup],
      'no-restricted-syntax': ['error', { selector: "CallExpression[callee.name='eval']", message: 'No eval.' }],
      'no-implied-eval': 'error',
      'no-new-func': 'error',
      eqeqeq: ['error', 'always'],
      'no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['eslint.config.js'],
    languageOptions: { globals: { ...globals.node } },
  },
];
