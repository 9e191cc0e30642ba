export * from './WhisperStandIn.js';
export * from './types.js';
export * from './dtmfTranscriber.js';
export * from './multipart.js';
export * from './parseWav.js';
export * from './openAiErrors.js';
