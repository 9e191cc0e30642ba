import { describe, expect, it } from 'vitest';
import { segmentRejectionReason, serviceFaultText } from '../../src/transcribe/failureText.js';
import { ServiceFaultNotice } from '../../src/transcribe/ServiceFaultNotice.js';
import { TranscribeError } from '../../src/transcribe/TranscribeError.js';
import { createLogger } from '../../src/util/logger.js';
import { maintenancePage, meta, OPENAI_401_BODY, rejectedKey, Sink } from './pipelineFakes.js';

const httpFault = (status: number, body = '<h1>nginx</h1>'): TranscribeError =>
  new TranscribeError('TRX_HTTP_STATUS', `transcription API answered HTTP ${status}: ${body}`, {
    retryable: true,
    serviceFault: true,
    status,
    bodyExcerpt: body,
  });

describe('ServiceFaultNotice', () => {
  const make = (sink: Sink, lines: string[] = []): ServiceFaultNotice =>
    new ServiceFaultNotice({ onWarning: sink.onWarning, logger: createLogger({ level: 'debug', write: (l) => lines.push(l) }) });

  it('warns each text channel once per episode; a success starts a new episode', () => {
    const sink = new Sink();
    const notice = make(sink);
    const talk = meta({ textChannelId: 'talk' });
    for (let i = 0; i < 5; i++) notice.report(rejectedKey(), talk);
    notice.report(rejectedKey(), meta({ textChannelId: 'other' }), 'x.wav');
    expect(sink.warnings.map((w) => [w.warning.code, w.warning.segment?.textChannelId])).toEqual([
      ['SERVICE_FAULT', 'talk'],
      ['SERVICE_FAULT', 'other'],
    ]);
    expect(sink.warnings[1]!.warning.file).toBe('x.wav');
    notice.recovered();
    notice.recovered();
    notice.report(rejectedKey(), talk);
    expect(sink.warnings).toHaveLength(3);
  });

  it('posts the status in plain words and keeps the response body for the log only', () => {
    const sink = new Sink();
    const lines: string[] = [];
    const notice = make(sink, lines);
    notice.report(rejectedKey(), meta());
    notice.report(rejectedKey(), meta());
    expect(sink.warnings[0]!.message).toBe(
      'The transcription service rejected the API key (HTTP 401); speech is kept on disk and will be transcribed once TRANSCRIBE_API_KEY is fixed.',
    );
    const logged = lines.map((l) => JSON.parse(l) as { msg: string; bodyExcerpt?: string });
    expect(logged.filter((l) => l.msg.startsWith('transcription service unusable'))).toHaveLength(1);
    expect(logged[0]!.bodyExcerpt).toBe(OPENAI_401_BODY);
  });

  it('a fault without a segment is logged, not posted (no channel to tell), and does not use up a channel', () => {
    const sink = new Sink();
    const lines: string[] = [];
    const notice = make(sink, lines);
    notice.report(rejectedKey(), undefined);
    expect(sink.warnings).toEqual([]);
    expect(lines).toHaveLength(1);
    notice.report(rejectedKey(), meta());
    expect(sink.warnings).toHaveLength(1);
  });

  it('survives a throwing listener', () => {
    const lines: string[] = [];
    const notice = new ServiceFaultNotice({
      onWarning: () => {
        throw new Error('poster down');
      },
      logger: createLogger({ level: 'debug', write: (l) => lines.push(l) }),
    });
    expect(() => notice.report(rejectedKey(), meta())).not.toThrow();
    expect(lines.some((l) => l.includes('onWarning listener threw'))).toBe(true);
  });
});

describe('failureText', () => {
  it('names the setting to fix for each service fault, never the body', () => {
    const texts = new Map<string, string>([
      ['403', serviceFaultText(httpFault(403))],
      ['404', serviceFaultText(httpFault(404))],
      ['407', serviceFaultText(httpFault(407))],
      ['308', serviceFaultText(httpFault(308))],
      ['410', serviceFaultText(httpFault(410))],
      ['bad', serviceFaultText(maintenancePage())],
    ]);
    expect(texts.get('403')).toContain('HTTP 403');
    expect(texts.get('404')).toContain('TRANSCRIBE_BASE_URL or TRANSCRIBE_MODEL');
    expect(texts.get('407')).toContain('proxy');
    expect(texts.get('308')).toContain('TRANSCRIBE_BASE_URL');
    expect(texts.get('410')).toContain('HTTP 410');
    expect(texts.get('bad')).toContain('not a transcript');
    for (const [what, text] of texts) {
      expect(text, what).toContain('speech is kept on disk');
      expect(text, what).not.toMatch(/nginx|<h1>|<html>|maintenance<\/body>/);
    }
  });

  it('names the TLS failure by Node’s code', () => {
    const cause = Object.assign(new Error('certificate has expired'), { code: 'CERT_HAS_EXPIRED' });
    const tls = new TranscribeError('TRX_CONNECT', 'transcription connection failed (CERT_HAS_EXPIRED)', { retryable: true, serviceFault: true, cause });
    expect(serviceFaultText(tls)).toBe(
      'The secure connection to the transcription service failed (CERT_HAS_EXPIRED); speech is kept on disk and will be transcribed once that is fixed.',
    );
  });

  it('says why a recording was refused by its status only', () => {
    const tooShort = new TranscribeError('TRX_HTTP_STATUS', 'HTTP 400: {"error":"Audio file is too short"}', {
      retryable: false,
      status: 400,
      bodyExcerpt: '{"error":"Audio file is too short"}',
    });
    expect(segmentRejectionReason(tooShort)).toBe('the transcription service refused this recording (HTTP 400)');
    expect(segmentRejectionReason(httpFault(413))).toBe('the recording is too large for the transcription service (HTTP 413)');
    expect(segmentRejectionReason(new TranscribeError('TRX_AUDIO', 'x', { retryable: false }))).toBe('the recording could not be read');
    expect(segmentRejectionReason(new TranscribeError('TRX_REQUEST', 'x', { retryable: false }))).toBe('the upload failed (TRX_REQUEST)');
  });
});
