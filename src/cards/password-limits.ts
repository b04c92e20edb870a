/** Shortest password a card may have (NIST SP 800-63B §5.1.1.2: at least 8 for a memorized secret). */
export const MIN_PASSWORD_LENGTH = 8;
/** Longest accepted: argon2 takes any length, this only bounds the work one request can cause. */
export const MAX_PASSWORD_LENGTH = 1024;
/** A password may not share a run of this many digits with the card number (or the issuer prefix). */
export const CARD_DIGIT_RUN = 6;
