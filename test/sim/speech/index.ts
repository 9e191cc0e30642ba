export * from './ConcurrencyLimit.js';
export * from './librivox.js';
export * from './pocketsphinx.js';
export * from './wer.js';
