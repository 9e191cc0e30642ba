export * from './dtmf.js';
export * from './signals.js';
export * from './wav.js';
