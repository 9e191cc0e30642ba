/** Phrases Whisper-family models are known to invent on silence, noise or very short clips, for one language. */
export interface HallucinationPhraseGroup {
  /** ISO-639-1 code of the phrases' language. */
  readonly language: string;
  /** Written as the model prints them; matching normalises case, punctuation, width and spacing. */
  readonly phrases: readonly string[];
}

/**
 * The known outro/credit phrases (subtitle credits and "thanks for watching" from the training data).
 * Data, not logic: add a phrase or a language here and the filter picks it up. Whole-output matches only, and
 * only for short/quiet/no-speech segments, so a real, clearly spoken "thank you" survives.
 * Sources: /work/shared/memory-and-whisper.md section C and the issues it cites.
 */
export const HALLUCINATION_PHRASES: readonly HallucinationPhraseGroup[] = [
  {
    language: 'en',
    phrases: [
      'Thank you for watching',
      'Thank you for watching!',
      'Thanks for watching!',
      'Thank you so much for watching!',
      'Thank you.',
      'Thank you very much.',
      'you',
      'Subtitles by the Amara.org community',
    ],
  },
  {
    language: 'it',
    phrases: [
      'Sottotitoli creati dalla comunità Amara.org',
      'Sottotitoli e revisione a cura di QTSS',
      'Grazie per la visione',
    ],
  },
  {
    language: 'ru',
    phrases: ['Продолжение следует...', 'Субтитры сделал DimaTorzok', 'Спасибо за просмотр!'],
  },
  {
    language: 'ja',
    phrases: [
      'ご視聴ありがとうございました',
      'ありがとうございました',
      'おやすみなさい',
      '次の動画でお会いしましょう',
      'チャンネル登録をお願いします',
    ],
  },
  {
    language: 'zh',
    phrases: [
      '字幕由Amara.org社区提供',
      '谢谢观看',
      '感谢观看',
      '请不吝点赞 订阅 转发 打赏支持明镜与点点栏目',
    ],
  },
  {
    language: 'ko',
    phrases: ['시청해 주셔서 감사합니다', '감사합니다', '구독과 좋아요 부탁드립니다', 'MBC 뉴스 이덕영입니다'],
  },
  {
    language: 'de',
    phrases: [
      'Untertitel der Amara.org-Community',
      'Untertitel im Auftrag des ZDF für funk, 2017',
      'Vielen Dank fürs Zuschauen!',
    ],
  },
  {
    language: 'fr',
    phrases: [
      "Sous-titres réalisés par la communauté d'Amara.org",
      // Sic: the training subtitles really say "para".
      "Sous-titres réalisés para la communauté d'Amara.org",
      'Sous-titrage Société Radio-Canada',
      "Sous-titrage ST' 501",
      "Merci d'avoir regardé",
    ],
  },
  {
    language: 'es',
    phrases: ['Subtítulos realizados por la comunidad de Amara.org', '¡Gracias por ver!', 'Gracias por ver el video'],
  },
  {
    language: 'pt',
    phrases: ['Legendas pela comunidade Amara.org', 'Obrigado por assistir!', 'Obrigado.'],
  },
  {
    language: 'nl',
    phrases: ['Ondertiteld door de Amara.org gemeenschap'],
  },
];
