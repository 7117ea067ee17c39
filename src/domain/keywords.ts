/**
 * Classification of inbound SMS replies into opt-out / opt-in / help / none.
 *
 * Legal background (47 CFR 64.1200(a)(10)-(12), CTIA Messaging Principles):
 * a consumer may revoke consent by any reasonable means. A reply using the
 * words "stop", "quit", "end", "revoke", "opt out", "cancel" or "unsubscribe"
 * is a valid revocation, and any other wording that a reasonable person would
 * understand as a revocation request must be honoured too. Missing a
 * revocation is far more costly than a false one, so for SHORT messages this
 * module errs on the side of opt-out, while keeping clear non-revocations
 * ("bus stop", "can't stop smiling", "when does the sale end?") out.
 *
 * Pipeline
 * --------
 * 1. Normalise: NFKC, strip diacritics ("más" -> "mas"), lower-case, drop
 *    apostrophes ("don't" -> "dont"), every other non letter/digit (punctuation,
 *    emoji, quotes, hyphens) becomes a separator, letters and digits are split
 *    ("stop2" -> "stop 2"), runs of 3+ identical characters collapse to one
 *    ("STOOOOP" -> "stop", "pleeease" -> "please").
 * 2. A message is LONG when it has more than 160 characters or more than 25
 *    words. In long messages a bare keyword only counts when it is the first
 *    or last word or written in capitals ("... I said STOP ..."); otherwise
 *    only explicit revocation phrases ("stop texting me", "remove me") count.
 * 3. Opt-out wins over everything else (precedence rule):
 *    a. whole-message keywords, also written spaced/hyphenated ("opt-out",
 *       "S T O P", "stop all");
 *    b. typo tolerance (see below);
 *    c. STRONG keywords (STOP, STOPALL, UNSUBSCRIBE/UNSUB, REVOKE, OPT OUT)
 *       anywhere in a short message unless the context shows another sense:
 *       a noun ("bus stop", "the stop", "non-stop", "one stop shop"), a phrasal
 *       verb ("stop by", "stop in", "stop at"), a non-messaging gerund
 *       ("stop laughing", "can't stop smiling") or a negation ("don't stop");
 *    d. WEAK keywords (CANCEL, END, QUIT), which are common English words,
 *       only when they lead the message ("Cancel", "End. Please", "ok quit")
 *       or are requested ("please cancel", "I want to cancel", "can I end
 *       this"), and not when followed by an unrelated object ("cancel my
 *       order", "end of season", "quit smoking");
 *    e. revocation phrases (English and Spanish), e.g. "no more texts",
 *       "don't text me", "take me off your list", "leave me alone",
 *       "I already unsubscribed", "wrong number", "not interested", "no más",
 *       "ya no me manden mensajes", "dame de baja".
 * 4. Opt-in (START, UNSTOP, YES) and help (HELP, INFO) only when the whole
 *    short message is the keyword, optionally with politeness words
 *    ("Yes please", "ok START"); help additionally accepts up to two trailing
 *    words ("Help me", "info pls?"). No typo tolerance for these.
 *
 * Typo rule: Damerau-Levenshtein (optimal string alignment) distance <= 1 to
 * STOP, STOPALL, UNSUBSCRIBE, CANCEL, QUIT, REVOKE or OPTOUT, only when both
 * the typed word and the keyword have at least 4 letters, the typed word is
 * not a listed real word near a keyword (STEP, SHOP, ATOP, STOMP, QUIET,
 * QUITE, SUIT, CANCER, EVOKE, ...), it is the first significant word, and the
 * rest of the message only holds words like "it", "me", "now", "texting",
 * "please". Words under four letters are never fuzzy-matched and END is
 * exact-only, so TOP, AND and SEND never match; the explicit misspellings
 * "STP", "STO", "SOP" and "STAHP" are accepted only as the whole message.
 * Elongations are handled by normalisation ("STOOOOP" -> "stop").
 *
 * 5. Canadian French (CWTA short-code guidelines; Québec): ARRÊT / ARRET opt out
 *    (also "arrêtez", "désabonnez-moi", "plus de messages") and AIDE asks for help;
 *    these matches carry `language: 'fr'` so the reply goes out in French.
 *    Spanish: PARAR, ALTO, CANCELAR, PARA, "no más", also with "por favor"
 *    ("Alto por favor", "Parar por favor"); the reply stays in English.
 * 6. What the person did not write is not their revocation:
 *    - a phone's REACTION to a message arrives as text quoting it (iMessage
 *      tapbacks sent as SMS: Liked / Loved / Laughed at / Emphasized /
 *      Questioned / Disliked "…", also in French and Spanish; Google
 *      Messages: Reacted 👍 to "…"), so a reaction is never an opt-out, even
 *      when the quote holds our footer "Reply STOP to opt out";
 *    - a QUOTED part ("…", “…”, «…», lines starting with '>') that carries
 *      an opt-out instruction is our own message quoted back, and our footer
 *      (InboundContext.ownText) pasted back is our text too: both are
 *      removed before the rest is classified. A message that is only our
 *      footer, unquoted, is still read as an opt-out (it errs on that side).
 *    Exact keywords win over all of this: "STOP", "'STOP'", "ARRÊT".
 *
 * Reported keyword: the canonical FCC/CTIA word that triggered the match
 * ('STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE',
 * 'OPTOUT', 'START', 'UNSTOP', 'YES', 'HELP', 'INFO'), or 'REVOCATION' when
 * the opt-out came from wording that contains none of those words (including
 * all Spanish wording such as "cancelar", "basta", "no más", and a message
 * consisting only of a stop-sign emoji).
 */

import { hasOptOutInstruction } from './footer.js'

export type KeywordIntent = 'opt_out' | 'opt_in' | 'help' | 'none'

export interface KeywordMatch {
  intent: KeywordIntent
  /** Canonical keyword ('STOP', 'ARRET', 'START', 'HELP', 'AIDE', ...), 'REVOCATION' for opt-out wording without one, null for none. */
  keyword: string | null
  /** 'fr' when a French keyword matched: the reply goes out in French. Absent for English (and Spanish). */
  language?: 'fr'
}

/** What the service itself sends, so that it can tell its own words quoted back from the person's. */
export interface InboundContext {
  /** Our opt-out footer(s) (OPT_OUT_FOOTER), e.g. "Reply STOP to opt out." */
  ownText?: readonly string[]
}

const LONG_CHARS = 160
const LONG_WORDS = 25

const NONE: KeywordMatch = Object.freeze({ intent: 'none', keyword: null }) as KeywordMatch

/* ------------------------------------------------------------------ */
/* Vocabulary                                                          */
/* ------------------------------------------------------------------ */

/** Opt-out keywords usable anywhere in a short message (subject to context guards). */
const STRONG: ReadonlyMap<string, string> = new Map([
  ['stop', 'STOP'],
  ['stopall', 'STOPALL'],
  ['unsubscribe', 'UNSUBSCRIBE'],
  ['unsub', 'UNSUBSCRIBE'],
  ['revoke', 'REVOKE'],
  ['optout', 'OPTOUT']
])

/** Opt-out keywords that are also everyday English words. */
const WEAK: ReadonlyMap<string, string> = new Map([
  ['cancel', 'CANCEL'],
  ['end', 'END'],
  ['quit', 'QUIT']
])

/** Whole-message opt-out forms (compared with the words joined without spaces). */
const WHOLE_OPT_OUT: ReadonlyMap<string, string> = new Map([
  ...STRONG,
  ...WEAK,
  ['stp', 'STOP'],
  ['sto', 'STOP'],
  ['sop', 'STOP'],
  ['stahp', 'STOP'],
  ['stopit', 'STOP']
])

/** Whole-message wording without a canonical keyword (English + Spanish). */
const WHOLE_REVOCATION = new Set([
  'remove', 'removeme', 'enough', 'unenroll', 'unregister', 'desist', 'ceaseanddesist',
  'goaway', 'nomore', 'nomas', 'yanomas', 'spam', 'thisisspam',
  'basta', 'yabasta', 'cancelar', 'detener', 'parar', 'alto', 'baja', 'desuscribir', 'desuscribirme',
  'para', 'pare', 'paren', 'parale', 'alto ya', 'detente', 'detenganse', 'cancela', 'cancelen', 'cancelarsuscripcion'
].map((w) => w.replace(/ /g, '')))

/** Canadian French (CWTA): whole-message opt-out and help keywords. */
const FRENCH_OPT_OUT = new Set(['arret', 'arretez', 'arreter', 'arretezsvp'])
const FRENCH_HELP = new Set(['aide', 'aidez', 'aidezmoi', 'aidemoi'])

/** Spanish words that signal revocation anywhere in a short message. */
const SPANISH_STRONG = new Set(['basta', 'desuscribir', 'desuscribirme', 'desuscribanme', 'desinscribirme'])

/** Keywords eligible for typo tolerance (all have >= 4 letters). */
const FUZZY_TARGETS: ReadonlyArray<readonly [string, string]> = [
  ['stop', 'STOP'],
  ['stopall', 'STOPALL'],
  ['unsubscribe', 'UNSUBSCRIBE'],
  ['cancel', 'CANCEL'],
  ['quit', 'QUIT'],
  ['revoke', 'REVOKE'],
  ['optout', 'OPTOUT']
]

/** Real words within one edit of a keyword that must not be read as typos. */
const FUZZY_DENY = new Set([
  // stop
  'step', 'shop', 'atop', 'slop', 'stow', 'swop', 'stomp', 'stoa', 'scop', 'stot', 'stob', 'snop', 'stoep',
  // quit
  'quiet', 'quite', 'quilt', 'quip', 'quiz', 'quid', 'quin', 'quint', 'suit', 'quirt',
  // cancel
  'cancer', 'chancel',
  // revoke
  'evoke', 'revote'
])

/** Words that may accompany a fuzzy-matched keyword ("stpo texting me"). */
const FUZZY_COMPANIONS = new Set([
  'it', 'me', 'us', 'all', 'now', 'this', 'that', 'these', 'them', 'texting', 'txting', 'messaging',
  'sending', 'texts', 'text', 'messages', 'msgs', 'spam', 'already', 'asap', 'immediately', 'please',
  'pls', 'plz', 'thanks', 'thx'
])

/** Leading words ignored when locating the first significant word of a possible opt-out. */
const LEAD_FILLERS = new Set([
  'please', 'pls', 'plz', 'plse', 'ok', 'okay', 'k', 'kk', 'yes', 'yeah', 'yep', 'ya', 'no', 'nope', 'nah',
  'just', 'hi', 'hey', 'hello', 'um', 'uh', 'so', 'sorry', 'now', 'seriously', 'again', 'omg', 'ugh', 'and',
  'oh', 'well', 'sir', 'maam', 'hmm', 'wtf', 'sure',
  // Spanish and French
  'porfa', 'porfavor', 'oye', 'hola', 'svp', 'stp', 'bonjour', 'allo', 'oui'
])

/** Trailing words ignored when locating the last significant word. */
const TRAIL_FILLERS = new Set([
  'please', 'pls', 'plz', 'plse', 'thanks', 'thx', 'ty', 'now', 'asap', 'already', 'immediately', 'again',
  'ok', 'okay', 'sir', 'maam', 'lol', 'omg', 'ugh', 'jeez', 'man', 'dude', 'bro', 'seriously', 'thank',
  // Spanish and French
  'porfa', 'porfavor', 'gracias', 'ya', 'ahora', 'ahorita', 'svp', 'stp', 'merci', 'maintenant'
])

/** Politeness of several words, trimmed from either end like the single-word fillers. */
const MULTIWORD_FILLERS: ReadonlyArray<readonly string[]> = [
  ['thank', 'you'], ['por', 'favor'], ['sil', 'vous', 'plait'], ['sil', 'te', 'plait'], ['s', 'il', 'vous', 'plait']
]

/** Politeness words allowed around an opt-in / help keyword. */
const POLITE_LEAD = new Set(['please', 'pls', 'plz', 'ok', 'okay', 'svp', 'stp'])
const POLITE_TRAIL = new Set(['please', 'pls', 'plz', 'thanks', 'thx', 'ty', 'thank', 'svp', 'stp', 'merci'])

const OPT_IN: ReadonlyMap<string, string> = new Map([
  ['start', 'START'],
  ['unstop', 'UNSTOP'],
  ['yes', 'YES']
])

const HELP: ReadonlyMap<string, string> = new Map([
  ['help', 'HELP'],
  ['info', 'INFO']
])

/** Words before "stop" showing a noun or non-revocation sense. */
const STOP_PREV_GUARD = new Set([
  'non', 'un', 'bus', 'train', 'tram', 'subway', 'metro', 'shuttle', 'truck', 'pit', 'rest', 'photo', 'whistle',
  'next', 'last', 'first', 'final', 'nearest', 'closest', 'my', 'your', 'ur', 'our', 'their', 'his', 'her',
  'the', 'a', 'an', 'this', 'that', 'every', 'each', 'one', '1', 'quick', 'short', 'brief', 'full', 'street',
  'st', 'ave', 'avenue', 'station', 'sale', 'deal', 'deals', 'promo', 'promotion', 'offer', 'discount',
  'event', 'special', 'music',
  // negation / inability: "don't stop", "do not stop", "can't stop smiling"
  'dont', 'not', 'cant', 'cannot', 'couldnt'
])

/** Words after "stop" showing a phrasal verb or compound noun. */
const STOP_NEXT_GUARD = new Set([
  'by', 'in', 'over', 'off', 'at', 'sign', 'signs', 'light', 'lights', 'watch', 'motion', 'gap', 'loss', 'shop'
])

/** Gerunds after stop/quit that still refer to the messaging. */
const COMM_GERUNDS = new Set([
  'texting', 'txting', 'texing', 'messaging', 'msging', 'sending', 'contacting', 'emailing', 'spamming',
  'bothering', 'harassing', 'bugging', 'calling', 'pinging', 'writing', 'hitting', 'blowing', 'being', 'doing',
  'marketing', 'advertising', 'asking', 'nagging', 'pestering', 'using', 'sms', 'messeging'
])

/** "-ing" words that are not gerunds. */
const NOT_GERUNDS = new Set([
  'nothing', 'something', 'anything', 'everything', 'thing', 'things', 'morning', 'evening', 'string',
  'spring', 'bring', 'swing', 'sting', 'during', 'ceiling'
])

/** Determiners skipped when looking at the object of a weak keyword. */
const DETERMINERS = new Set(['my', 'the', 'your', 'ur', 'our', 'this', 'that', 'a', 'an', 'his', 'her', 'their', 'these', 'those'])

/** Objects that show a weak keyword is about something other than the messages. */
const WEAK_OBJECT_GUARD: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ['cancel', new Set([
    'order', 'orders', 'appointment', 'appointments', 'appt', 'reservation', 'reservations', 'booking',
    'bookings', 'delivery', 'pickup', 'payment', 'trip', 'flight', 'ride', 'table', 'class', 'meeting',
    'event', 'ticket', 'tickets', 'item', 'items', 'purchase'
  ])],
  ['end', new Set([
    'of', 'date', 'time', 'up', 'result', 'game', 'user', 'users', 'zone', 'table', 'tables', 'cap', 'caps',
    'piece', 'point', 'in', 'on', 'at', 'soon', 'today', 'tomorrow', 'tonight'
  ])],
  ['quit', new Set(['job', 'work', 'school', 'smoking', 'drinking', 'vaping', 'gym', 'team', 'game'])]
])

/** Words that may follow a weak keyword at the end of a request ("can I cancel this"). */
const WEAK_REQUEST_TAIL = new Set([
  'this', 'these', 'it', 'them', 'all', 'everything', 'now', 'please', 'pls', 'plz', 'me', 'subscription',
  'texts', 'messages', 'asap', 'immediately'
])

/** Opt-out emoji accepted when the message has no words at all. */
const STOP_EMOJI = /[\u{1F6D1}\u26D4\u{1F6AB}]/u

/* ------------------------------------------------------------------ */
/* Revocation phrases                                                  */
/* ------------------------------------------------------------------ */

const COMM_NOUN = '(?:text messages?|texts?|txts?|messages?|msgs?|sms|spam|promos?|promotions?|promotional messages|marketing|ads|adverts?|advertisements?|advertising|alerts?|notifications?|newsletters?|mensajes|textos)'
const NEG = '(?<!\\b(?:cant|cannot|couldnt|dont|not) )'

interface Phrase { re: RegExp, shortOnly: boolean }

function phrase (source: string, shortOnly = false): Phrase {
  return { re: new RegExp(source), shortOnly }
}

const PHRASES: readonly Phrase[] = [
  // stop/quit + messaging verb: "stop texting me", "quit sending", "stop them from texting"
  phrase(`${NEG}\\b(?:stop|quit|cease|halt|end)(?: (?:them|it|you|u|yall|guys|people|all|the|this|these|those|your|ur|company|business|store|team|bot|from))* (?:texting|txting|texing|messaging|msging|sending|contacting|emailing|spamming|bothering|harassing|bugging|calling|pinging|hitting me up|blowing up)\\b`),
  // stop/cancel + messages: "stop the texts", "cancel my subscription", "end these messages"
  phrase(`${NEG}\\b(?:stop|quit|cease|halt|end|cancel|block|pause)(?: (?:all|the|these|those|this|your|ur|my|any|them|of|with|sending|sending me|stupid|annoying|damn))* (?:${COMM_NOUN}|subscriptions?)\\b`),
  // "no more texts", "no more of these messages", "no more texting"
  phrase(`\\bno more (?:of )?(?:these |your |ur |the |this |those |such |stupid |annoying )?(?:${COMM_NOUN}|texting|messaging|contacting)\\b`),
  phrase('^(?:(?:ok|okay|please|pls|plz|just|no) )*no more(?: (?:please|pls|plz|thanks|thank you|thx|of this|of these|of that|spam))*$', true),
  // "don't text me", "do not contact", "never message me again"
  phrase('\\b(?:dont|do not|never)(?: ever)? (?:text|txt|message|msg|sms|contact|spam|bother|harass|email|write to|hit me up)\\b'),
  phrase(`\\b(?:dont|do not|never)(?: ever)? send(?:ing)?(?: me| us)? (?:any more|anymore|any|more|these|those|this (?:stuff|crap|spam)|again|${COMM_NOUN})\\b`),
  phrase('^(?:(?:please|pls|plz) )?(?:dont|do not|never)(?: ever)? send(?:ing)?(?: me| us)?(?: please| pls)?$', true),
  // "remove me", "delete my number", "take me off your list"
  phrase('\\b(?:remove|delete|erase|drop|unlist|unenroll|unregister|unsubscribe) (?:me|us|myself|my (?:phone |cell )?(?:number|phone|cell|info|information|details|name|contact|data|account)|this (?:phone |cell )?(?:number|phone))\\b'),
  phrase('\\b(?:take|get|put) (?:me|us|myself|my (?:phone |cell )?(?:number|name|info)|this (?:phone )?number) (?:off|out)\\b'),
  phrase('\\b(?:do not|dont|dnc|no) (?:text|call|contact|txt|message) list\\b'),
  // "opt me out", "unsubscribe me" (keyword handled elsewhere), "I want to be removed"
  phrase('\\bopt (?:me|us|myself|this number|my number) out\\b'),
  phrase('\\b(?:want|wanna|would like|d like|need|wish|let me|how (?:do|can) i|please|pls|plz|i) (?:to )?opt out\\b'),
  phrase('\\b(?:want|wanna|would like|d like|need|wish|ask|asking|asked) (?:to )?be (?:removed|taken off|unsubscribed|opted out|deleted)\\b'),
  phrase('\\b(?:want|wanna|would like|d like|need|wish) (?:to )?(?:get |be )?(?:off|out of) (?:this|the|your|ur|these|that) (?:list|thing|texts|messages)\\b'),
  phrase('^(?:i )?(?:want|wanna) out(?: (?:please|pls|now))*$', true),
  // "leave me alone", "lose my number", "go away", rude dismissals
  phrase('\\bleave (?:me|us) alone\\b'),
  phrase('\\blose (?:my|this) number\\b'),
  phrase('^(?:(?:please|pls|plz|just|ok|okay|now|so) )*go away\\b', true),
  phrase('\\b(?:fuck|fck|fuk|f|piss|sod|bugger|screw) off\\b'),
  phrase('^stfu\\b', true),
  // "I don't want these messages", "I no longer wish to receive texts"
  phrase(`\\b(?:dont|do not|no longer|never) (?:want|need|wish|like)(?: to (?:receive|get|see|be getting|be receiving|keep getting|keep receiving))?(?: (?:these|this|those|your|ur|any|the|them|more|any more|anymore|such|all|stupid|damn|annoying|marketing|promotional|text))* ${COMM_NOUN}\\b`),
  phrase('\\b(?:dont|do not|no longer) (?:want|need) (?:these|them|any|anymore|any more)(?: anymore| any more)?(?: (?:please|pls|thanks|thank you))?$', true),
  phrase('\\bno longer (?:interested|want|wish)\\b'),
  // "I already unsubscribed", "I said stop", "I told you to stop"
  phrase('\\bi (?:already |have already |already have |ve already |have |ve |just |literally )?(?:unsubscribed|unsubbed|opted out|said stop|said to stop|replied stop|texted stop|sent stop|asked (?:you )?to stop|told you to stop|told you stop|asked to be removed|asked you to remove me)\\b'),
  // "not interested", "no thanks, not interested"
  phrase('^(?:(?:no|nope|nah|thanks|thank you|thx|sorry) )*(?:im |i am |i m |we are |were )?(?:not interested|no longer interested|uninterested)(?: (?:thanks|thank you|thx|anymore|any more|please|sorry|at all))*$', true),
  // "wrong number" / "wrong person": the sender is not the consenting party
  phrase('\\bwrong (?:number|num|person|phone)\\b', true),
  // "I'll block you", "going to report this number"
  phrase('\\b(?:ill|i will|im going to|i am going to|gonna|going to|im gonna|about to) (?:block|report) (?:you|u|this|your|ur)\\b'),
  // "enough" as a whole reply
  phrase('^(?:(?:ok|okay) )?enough(?: (?:already|please|pls|of this|with (?:the|these|your) (?:texts|messages)))*$', true),

  // Spanish
  phrase('^(?:ya )?no mas\\b', true),
  phrase('\\bno mas (?:mensajes|textos|msjs|sms|mensajitos|spam|promociones)\\b'),
  phrase('\\bno me (?:mandes|mande|manden|envies|envie|envien|escribas|escriba|escriban|contactes|contacte|contacten|molestes|moleste|molesten|textees)\\b'),
  phrase('\\bya no (?:quiero|deseo|me interesa|me manden|me envien|me escriban|me mandes|me envies)\\b'),
  phrase('\\bno (?:quiero|deseo) (?:recibir |mas |recibir mas )*(?:mensajes|textos|sms|promociones|publicidad)\\b'),
  phrase('\\b(?:dar|darme|denme|deme|dame|darse|darnos) de baja\\b'),
  phrase('\\b(?:quitar|quitarme|quitame|quitenme|sacar|sacarme|sacame|saquenme|borrar|borrarme|borrame|borrenme|eliminar|eliminarme|eliminame|eliminenme) de (?:la|su|tu|esta|sus|tus) (?:lista|base)\\b'),
  phrase('\\b(?:dejen(?:me)?|deja(?:me)?) (?:de (?:mandar|enviar|escribir)|en paz)\\b'),
  phrase('\\b(?:para|paren|deja|dejen) de (?:mandar|enviar|escribir)(?:me)?\\b')
]

/** Canadian French revocation wording (normalised: no accents, no apostrophes). */
const FRENCH_PHRASES: readonly Phrase[] = [
  phrase('\\barrete[zr]?(?: de| svp| stp)* (?:menvoyer|mecrire|me texter|me contacter|denvoyer|decrire|envoyer|ecrire|texter|les (?:messages|textos|sms))\\b'),
  phrase('\\b(?:desabonn|desinscri)\\w*'),
  phrase('\\bne (?:menvoyez|mecrivez|me textez|me contactez|menvoie|mecris) plus\\b'),
  phrase('\\bplus de (?:messages|textos|sms|courriels)\\b'),
  phrase('^(?:je ne veux plus|jen veux plus)\\b', true)
]

/* ------------------------------------------------------------------ */
/* Normalisation                                                       */
/* ------------------------------------------------------------------ */

interface Normalized {
  /** Lower-case words. */
  words: string[]
  /** True when the word was written in capitals (2+ letters). */
  upper: boolean[]
  /** Words joined with single spaces (what the phrase regexes run on). */
  text: string
  long: boolean
}

const DIACRITICS = /\p{M}+/gu
const APOSTROPHES = /['\u2018\u2019\u201B\u02BC\u0060\u00B4]/g
const NON_WORD = /[^\p{L}\p{N}]+/gu
const LETTER_DIGIT = /(?<=\p{L})(?=\p{N})|(?<=\p{N})(?=\p{L})/gu
const REPEATS = /(\p{L})\1{2,}/gu
const WHITESPACE = /\s+/gu
const UPPER_LETTER = /\p{Lu}/u

function normalize (raw: string): Normalized {
  const nfkc = raw.normalize('NFKC')
  const visibleLength = nfkc.replace(WHITESPACE, ' ').trim().length
  const cleaned = nfkc
    .normalize('NFD')
    .replace(DIACRITICS, '')
    .replace(APOSTROPHES, '')
    .replace(NON_WORD, ' ')
    .replace(LETTER_DIGIT, ' ')
    .replace(REPEATS, '$1')
    .trim()
  const raws = cleaned === '' ? [] : cleaned.split(' ')
  const words: string[] = []
  const upper: boolean[] = []
  for (const w of raws) {
    const lower = w.toLowerCase()
    words.push(lower)
    upper.push(w.length >= 2 && w !== lower && w === w.toUpperCase() && UPPER_LETTER.test(w))
  }
  return {
    words,
    upper,
    text: words.join(' '),
    long: visibleLength > LONG_CHARS || words.length > LONG_WORDS
  }
}

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

/** Optimal-string-alignment (Damerau-Levenshtein) distance <= 1. */
function withinOneEdit (a: string, b: string): boolean {
  if (a === b) return true
  const la = a.length
  const lb = b.length
  if (Math.abs(la - lb) > 1) return false
  if (la === lb) {
    let i = 0
    while (i < la && a[i] === b[i]) i++
    // single substitution
    if (a.slice(i + 1) === b.slice(i + 1)) return true
    // adjacent transposition
    return i + 1 < la && a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2)
  }
  const [s, l] = la < lb ? [a, b] : [b, a]
  let i = 0
  while (i < s.length && s[i] === l[i]) i++
  return s.slice(i) === l.slice(i + 1)
}

function fuzzyKeyword (word: string): string | null {
  if (word.length < 4 || FUZZY_DENY.has(word)) return null
  for (const [target, canonical] of FUZZY_TARGETS) {
    if (withinOneEdit(word, target)) return canonical
  }
  return null
}

function isGerund (word: string | undefined): boolean {
  return word !== undefined && word.length >= 5 && word.endsWith('ing') && !NOT_GERUNDS.has(word)
}

/** Index range [start, end) of the significant words (fillers trimmed). */
function coreRange (words: readonly string[], lead: ReadonlySet<string>, trail: ReadonlySet<string>): [number, number] {
  const fillerAt = (i: number, limit: number): number => {
    for (const filler of MULTIWORD_FILLERS) {
      if (i + filler.length <= limit && filler.every((w, k) => words[i + k] === w)) return filler.length
    }
    return 0
  }
  let start = 0
  let end = words.length
  for (;;) {
    if (start < end && lead.has(words[start] ?? '')) { start++; continue }
    const multi = fillerAt(start, end)
    if (multi === 0) break
    start += multi
  }
  for (;;) {
    if (end > start && trail.has(words[end - 1] ?? '')) { end--; continue }
    const filler = MULTIWORD_FILLERS.find((f) => end - f.length >= start && f.every((w, k) => words[end - f.length + k] === w))
    if (filler === undefined) break
    end -= filler.length
  }
  return [start, end]
}

function opt (keyword: string): KeywordMatch {
  return { intent: 'opt_out', keyword }
}

/** Canonical keyword contained in matched revocation wording, else 'REVOCATION'. */
function keywordIn (matched: string): string {
  const words = matched.split(' ')
  for (let i = 0; i < words.length; i++) {
    const w = words[i] ?? ''
    if (w === 'opt' && words[i + 1] === 'out') return 'OPTOUT'
    const k = STRONG.get(w) ?? WEAK.get(w)
    if (k !== undefined) return k
  }
  return 'REVOCATION'
}

function isStopUsage (words: readonly string[], i: number): boolean {
  const prev = words[i - 1]
  const next = words[i + 1]
  if (prev !== undefined && STOP_PREV_GUARD.has(prev)) return false
  if (next !== undefined && STOP_NEXT_GUARD.has(next)) return false
  if ((next === 'and' || next === 'n') && words[i + 2] === 'shop') return false
  if (isGerund(next) && !COMM_GERUNDS.has(next ?? '')) return false
  return true
}

function isStrongUsage (words: readonly string[], i: number): boolean {
  const w = words[i]
  if (w === 'stop') return isStopUsage(words, i)
  const prev = words[i - 1]
  return prev !== 'dont' && prev !== 'not' && prev !== 'never'
}

function isWeakUsage (words: readonly string[], i: number, coreStart: number, coreEnd: number, long: boolean): boolean {
  const w = words[i] ?? ''
  const prev = words[i - 1]
  const next = words[i + 1]
  if (prev === 'dont' || prev === 'not' || prev === 'never' || prev === 'the') return false
  let j = i + 1
  while (j < words.length && DETERMINERS.has(words[j] ?? '')) j++
  const object = words[j]
  if (object !== undefined && WEAK_OBJECT_GUARD.get(w)?.has(object) === true) return false
  if (isGerund(next) && !COMM_GERUNDS.has(next ?? '')) return false
  if (i === coreStart) return true
  if (long) return false
  if (prev === 'please' || prev === 'pls' || prev === 'plz' || prev === 'just') return true
  if (prev === 'to' || prev === 'i') {
    return i === coreEnd - 1 || (next !== undefined && WEAK_REQUEST_TAIL.has(next))
  }
  return false
}

/* ------------------------------------------------------------------ */
/* Classification                                                      */
/* ------------------------------------------------------------------ */

function detectOptOut (n: Normalized): KeywordMatch | null {
  const { words, upper, text, long } = n
  const [start, end] = coreRange(words, LEAD_FILLERS, TRAIL_FILLERS)
  const core = words.slice(start, end)

  if (!long && core.length > 0) {
    // a. whole message is a keyword (also "opt-out", "stop all", "S T O P")
    const compact = core.join('')
    const whole = WHOLE_OPT_OUT.get(compact)
    if (whole !== undefined) return opt(whole)
    if (WHOLE_REVOCATION.has(compact)) return opt('REVOCATION')

    // b. typo in the leading keyword ("STPO", "sotp pls", "unsubcribe me")
    const first = core[0] ?? ''
    if (core.length <= 4 && core.slice(1).every(w => FUZZY_COMPANIONS.has(w)) && !STRONG.has(first) && !WEAK.has(first)) {
      const fuzzy = fuzzyKeyword(first)
      if (fuzzy !== null) return opt(fuzzy)
    }
  }

  // c/d. keywords inside the message
  const lastCore = end - 1
  for (let i = 0; i < words.length; i++) {
    const w = words[i] ?? ''
    const prominent = i === start || i === lastCore || upper[i] === true
    if (long && !prominent) continue

    if (w === 'opt' && words[i + 1] === 'out') {
      const prev = words[i - 1]
      if (prev !== 'dont' && prev !== 'not' && prev !== 'never') return opt('OPTOUT')
      continue
    }
    const strong = STRONG.get(w)
    if (strong !== undefined) {
      if (!isStrongUsage(words, i)) continue
      if (w === 'stop' && words[i + 1] === 'all' && i + 1 >= lastCore) return opt('STOPALL')
      return opt(strong)
    }
    const weak = WEAK.get(w)
    if (weak !== undefined && isWeakUsage(words, i, start, end, long)) return opt(weak)

    if (!long && SPANISH_STRONG.has(w)) return opt('REVOCATION')
    if (!long && w === 'cancelar' && i === start) {
      let j = i + 1
      while (j < words.length && (words[j] === 'mi' || words[j] === 'mis' || words[j] === 'la' || words[j] === 'el' || words[j] === 'los' || words[j] === 'las')) j++
      const object = words[j]
      if (object === undefined || !['pedido', 'cita', 'orden', 'reserva', 'reservacion', 'compra', 'entrega'].includes(object)) {
        return opt('REVOCATION')
      }
    }
  }

  // e. revocation wording
  for (const p of PHRASES) {
    if (p.shortOnly && long) continue
    const m = p.re.exec(text)
    if (m !== null) return opt(keywordIn(m[0]))
  }
  return null
}

/* ------------------------------------------------------------------ */
/* Reactions and quotes                                                */
/* ------------------------------------------------------------------ */

const OPEN_QUOTE = '[“"«„]'
const CLOSE_QUOTE = '[”"»“]'
/**
 * A reaction sent as SMS: the verb, then the quoted message, and nothing after the closing quote.
 * iMessage tapbacks (English, French, Spanish), iOS 18 emoji tapbacks and Google Messages.
 */
const REACTION = new RegExp(
  '^\\s*(?:' + [
    'Liked', 'Loved', 'Laughed at', 'Emphasi[sz]ed', 'Questioned', 'Disliked',
    'Reacted\\s+\\S{1,16}\\s+to', 'Removed\\s+an?\\s+[\\p{L} ]{1,30}?\\s+from',
    'A aimé', 'A adoré', 'A ri de', 'A mis en évidence', 'A mis en doute', 'N[’\']a pas aimé', 'A réagi\\s+\\S{1,16}\\s+à',
    'Le gustó', 'Le encantó', 'Se rió de', 'Enfatizó', 'Cuestionó', 'No le gustó', 'Reaccionó\\s+\\S{1,16}\\s+a'
  ].join('|') + `)\\s*${OPEN_QUOTE}[\\s\\S]*${CLOSE_QUOTE}\\s*$`,
  'iu'
)
/** A quoted span; an unclosed quote runs to the end of the text. */
const QUOTED = /“[^”]*”?|"[^"]*"?|«[^»]*»?|„[^“”]*[“”]?/gu
const QUOTED_LINE = /^[ \t]*>.*$/gmu

/** True when the whole text is a phone's reaction to a message. */
export function isReaction (text: string): boolean {
  return REACTION.test(text.normalize('NFC'))
}

function escapeRegExp (text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/**
 * The text without what is ours: quoted parts carrying an opt-out instruction (our message quoted
 * back) and our own footer pasted back. `quoted`: something was removed from inside quotes.
 */
function withoutOwnText (text: string, ownText: readonly string[]): { rest: string, removed: boolean, quoted: boolean } {
  let quoted = false
  const ours = (span: string): boolean => hasOptOutInstruction(span) || ownText.some((own) => own.trim() !== '' && span.toLowerCase().includes(own.trim().toLowerCase()))
  let rest = text.replace(QUOTED, (span) => ours(span) ? ((quoted = true), ' ') : span)
  const quotedLines = rest.match(QUOTED_LINE) ?? []
  if (quotedLines.some(ours)) {
    rest = rest.replace(QUOTED_LINE, ' ')
    quoted = true
  }
  for (const own of ownText) {
    const trimmed = own.trim().replace(/[.!]+$/, '')
    if (trimmed === '') continue
    rest = rest.replace(new RegExp(escapeRegExp(trimmed).replace(/\s+/g, '\\s+') + '[.!]?', 'giu'), ' ')
  }
  return { rest, removed: rest !== text, quoted }
}

/** The whole message is one keyword (optionally quoted or punctuated): these always win. */
function exactKeyword (n: Normalized): KeywordMatch | null {
  if (n.long) return null
  const compact = n.words.join('')
  const optOut = WHOLE_OPT_OUT.get(compact)
  if (optOut !== undefined) return opt(optOut)
  if (WHOLE_REVOCATION.has(compact)) return opt('REVOCATION')
  if (FRENCH_OPT_OUT.has(compact)) return { intent: 'opt_out', keyword: 'ARRET', language: 'fr' }
  const optIn = OPT_IN.get(compact)
  if (optIn !== undefined) return { intent: 'opt_in', keyword: optIn }
  const help = HELP.get(compact)
  if (help !== undefined) return { intent: 'help', keyword: help }
  if (FRENCH_HELP.has(compact)) return { intent: 'help', keyword: 'AIDE', language: 'fr' }
  return null
}

function detectFrench (n: Normalized): KeywordMatch | null {
  if (n.long) return null
  const [start, end] = coreRange(n.words, LEAD_FILLERS, TRAIL_FILLERS)
  const compact = n.words.slice(start, end).join('')
  if (FRENCH_OPT_OUT.has(compact)) return { intent: 'opt_out', keyword: 'ARRET', language: 'fr' }
  for (const p of FRENCH_PHRASES) {
    if (p.re.test(n.text)) return { intent: 'opt_out', keyword: 'REVOCATION', language: 'fr' }
  }
  const [helpStart, helpEnd] = coreRange(n.words, POLITE_LEAD, POLITE_TRAIL)
  if (FRENCH_HELP.has(n.words.slice(helpStart, helpEnd).join(''))) return { intent: 'help', keyword: 'AIDE', language: 'fr' }
  return null
}

function classifyWords (n: Normalized, raw: string): KeywordMatch {
  if (n.words.length === 0) return STOP_EMOJI.test(raw) ? opt('REVOCATION') : NONE
  const optOut = detectOptOut(n)
  if (optOut !== null) return optOut
  const french = detectFrench(n)
  if (french !== null) return french
  if (n.long) return NONE

  const [start, end] = coreRange(n.words, POLITE_LEAD, POLITE_TRAIL)
  const core = n.words.slice(start, end)
  if (core.length === 0) return NONE
  const compact = core.join('')

  const optIn = OPT_IN.get(compact)
  if (optIn !== undefined) return { intent: 'opt_in', keyword: optIn }

  const help = HELP.get(compact) ?? (core.length <= 3 ? HELP.get(core[0] ?? '') : undefined)
  if (help !== undefined) return { intent: 'help', keyword: help }

  return NONE
}

/**
 * Classify the text of an inbound SMS reply. Pure and synchronous.
 * Exact keywords first; then reactions and our own quoted text are set aside (rule 6); then opt-out
 * takes precedence over opt-in and help.
 */
export function classifyInbound (text: string, context: InboundContext = {}): KeywordMatch {
  if (typeof text !== 'string' || text.length === 0) return NONE
  const n = normalize(text)
  if (n.words.length === 0) return classifyWords(n, text)
  const exact = exactKeyword(n)
  if (exact !== null) return exact
  if (isReaction(text)) return NONE
  const own = withoutOwnText(text, context.ownText ?? [])
  if (!own.removed) return classifyWords(n, text)
  const rest = normalize(own.rest)
  // Only our words, unquoted: the person sent our opt-out instruction back, which reads as an opt-out.
  if (rest.words.length === 0) return own.quoted ? NONE : classifyWords(n, text)
  return classifyWords(rest, own.rest)
}
