import { describe, expect, it } from 'vitest'
import { classifyInbound, type KeywordMatch } from '../../src/domain/keywords.js'

const out = (keyword: string): KeywordMatch => ({ intent: 'opt_out', keyword })
const none: KeywordMatch = { intent: 'none', keyword: null }
const optIn = (keyword: string): KeywordMatch => ({ intent: 'opt_in', keyword })
const help = (keyword: string): KeywordMatch => ({ intent: 'help', keyword })

const LONG_STOP_MENTION =
  'Honestly I cannot stop telling my friends about your store, the last sale was amazing and I would love to know ' +
  'when the next one starts so I can bring my sister and her kids along with us'
const LONG_WITH_REVOCATION =
  'I have been a customer for years and I appreciate the discounts, but I get way too many of these and my phone ' +
  'buzzes all day long, so please stop texting me, I will check your website myself when I need something'
const LONG_ENDING_IN_STOP =
  'I have told you three times already that I do not want any more of this, I never signed up for anything and ' +
  'I have no idea how you got this number in the first place, so for the last time: stop'

describe('classifyInbound: opt-out vs not opt-out (real-world replies)', () => {
  it.each<[string, KeywordMatch]>([
    // ---- must be opt-out: standard keywords, case, punctuation, emoji, quotes
    ['STOP', out('STOP')],
    ['stop', out('STOP')],
    ['Stop.', out('STOP')],
    [' STOP!!! ', out('STOP')],
    ['stop 🛑', out('STOP')],
    ["'STOP'", out('STOP')],
    ['"Stop"', out('STOP')],
    ['ＳＴＯＰ', out('STOP')],
    ['S.T.O.P.', out('STOP')],
    ['STOPALL', out('STOPALL')],
    ['Stop all', out('STOPALL')],
    ['UNSUBSCRIBE', out('UNSUBSCRIBE')],
    ['Unsubscribe me', out('UNSUBSCRIBE')],
    ['unsub', out('UNSUBSCRIBE')],
    ['Cancel', out('CANCEL')],
    ['cancel please', out('CANCEL')],
    ['END', out('END')],
    ['End.', out('END')],
    ['QUIT', out('QUIT')],
    ['Revoke', out('REVOKE')],
    ['OPTOUT', out('OPTOUT')],
    ['opt out', out('OPTOUT')],
    ['Opt-Out', out('OPTOUT')],
    ['🛑', out('REVOCATION')],
    // ---- typos
    ['STPO', out('STOP')],
    ['SOTP', out('STOP')],
    ['STOOP', out('STOP')],
    ['stopp', out('STOP')],
    ['Stoooooop!!!', out('STOP')],
    ['Sop', out('STOP')],
    ['stp', out('STOP')],
    ['stpo texting me', out('STOP')],
    ['unsubcribe', out('UNSUBSCRIBE')],
    ['Unsuscribe', out('UNSUBSCRIBE')],
    ['cancle', out('CANCEL')],
    ['Qiut', out('QUIT')],
    // ---- keyword inside a short message (precedence)
    ['STOP. Why are you texting me?', out('STOP')],
    ['yes stop', out('STOP')],
    ['Stop please', out('STOP')],
    ['Please stop texting me', out('STOP')],
    ['stop texting me!!', out('STOP')],
    ['Stop sending me messages', out('STOP')],
    ['I said STOP', out('STOP')],
    ['Can you stop?', out('STOP')],
    ['help stop', out('STOP')],
    ['Start stop', out('STOP')],
    ['How do I unsubscribe?', out('UNSUBSCRIBE')],
    ['Quit texting me', out('QUIT')],
    ['End these texts', out('END')],
    ['please cancel my subscription', out('CANCEL')],
    ['I want to cancel', out('CANCEL')],
    ['ok quit', out('QUIT')],
    // ---- revocation wording without a keyword
    ['no more texts', out('REVOCATION')],
    ['No more please', out('REVOCATION')],
    ["Don't text me", out('REVOCATION')],
    ['don’t text me again', out('REVOCATION')],
    ['Do not contact me', out('REVOCATION')],
    ['remove me', out('REVOCATION')],
    ['Remove me from your list', out('REVOCATION')],
    ['Take me off your list', out('REVOCATION')],
    ['leave me alone', out('REVOCATION')],
    ["I don't want these messages", out('REVOCATION')],
    ['Opt me out', out('REVOCATION')],
    ['please delete my number', out('REVOCATION')],
    ['lose my number', out('REVOCATION')],
    ['I already unsubscribed', out('REVOCATION')],
    ['Wrong number', out('REVOCATION')],
    ['not interested', out('REVOCATION')],
    ['No thanks, not interested', out('REVOCATION')],
    ['I no longer wish to receive these texts', out('REVOCATION')],
    ['go away', out('REVOCATION')],
    ['Enough!', out('REVOCATION')],
    ['SPAM', out('REVOCATION')],
    // ---- Spanish
    ['no mas', out('REVOCATION')],
    ['No más', out('REVOCATION')],
    ['NO MÁS MENSAJES', out('REVOCATION')],
    ['Basta', out('REVOCATION')],
    ['ya basta!', out('REVOCATION')],
    ['Cancelar', out('REVOCATION')],
    ['ya no me manden mensajes', out('REVOCATION')],
    ['no me envíes más mensajes', out('REVOCATION')],
    ['dame de baja por favor', out('REVOCATION')],
    // ---- long messages
    [LONG_WITH_REVOCATION, out('STOP')],
    [LONG_ENDING_IN_STOP, out('STOP')],

    // ---- must NOT be opt-out
    ['Thanks!', none],
    ['What time do you close?', none],
    ['bus stop on 5th', none],
    ['Is there parking near the bus stop?', none],
    ['Is there a stop near the mall?', none],
    ['non-stop deals?', none],
    ['nonstop', none],
    ['STEP', none],
    ['SHOP', none],
    ['top', none],
    ['spot', none],
    ['store', none],
    ['STOCK', none],
    ['and', none],
    ['send', none],
    ['Send me more', none],
    ["I can't stop smiling", none],
    ["I can't stop laughing at this deal, count me in", none],
    ['Can I stop by later today?', none],
    ["I'll stop in after work", none],
    ["Don't stop sending me deals!", none],
    ['Stop & Shop has it cheaper', none],
    ['When does the sale end?', none],
    ['The end', none],
    ['End of season sale?', none],
    ['Weekend hours?', none],
    ['Cancel my order #1234 and resend it', none],
    ['I need to cancel my appointment', none],
    ['quite nice', none],
    ['Quiet hours?', none],
    ['quit smoking program?', none],
    ['stoop sale on saturday?', none],
    ['stopwatch', none],
    ['Stopped by yesterday, great service', none],
    ['No thanks', none],
    ['No', none],
    ['Who is this?', none],
    ["Yes I'll be there", none],
    ['top deals this week?', none],
    ['Cancer awareness walk?', none],
    ['What stops does the shuttle make?', none],
    [LONG_STOP_MENTION, none],
    ['', none],
    ['   ', none],
    ['👍', none]
  ])('%j -> %j', (text, expected) => {
    expect(classifyInbound(text)).toEqual(expected)
  })
})

describe('classifyInbound: opt-in', () => {
  it.each<[string, KeywordMatch]>([
    ['START', optIn('START')],
    ['Start.', optIn('START')],
    ['start please', optIn('START')],
    ["'START'", optIn('START')],
    ['ok start', optIn('START')],
    ['UNSTOP', optIn('UNSTOP')],
    ['unstop!', optIn('UNSTOP')],
    ['Un-stop', optIn('UNSTOP')],
    ['YES', optIn('YES')],
    ['Yes!', optIn('YES')],
    ['yes please', optIn('YES')],
    ['  yes.  ', optIn('YES')],
    // not opt-in
    ['Yess', none],
    ['yeah', none],
    ['Restart', none],
    ['Start texting me again tomorrow', none],
    ['Yes stop', out('STOP')],
    ['START STOP', out('STOP')]
  ])('%j -> %j', (text, expected) => {
    expect(classifyInbound(text)).toEqual(expected)
  })
})

describe('classifyInbound: help', () => {
  it.each<[string, KeywordMatch]>([
    ['HELP', help('HELP')],
    ['help?', help('HELP')],
    ['Help!!!', help('HELP')],
    ['Help me', help('HELP')],
    ['help please', help('HELP')],
    ['Help me please', help('HELP')],
    ['INFO', help('INFO')],
    ['info pls', help('INFO')],
    ['Info?', help('INFO')],
    // not help
    ['I need help with my order', none],
    ['Info about hours tomorrow please?', none],
    ['Help me unsubscribe', out('UNSUBSCRIBE')],
    ['help, how do I stop these texts', out('STOP')]
  ])('%j -> %j', (text, expected) => {
    expect(classifyInbound(text)).toEqual(expected)
  })
})

const FOOTER = 'Reply STOP to opt out.'
const OUR_MESSAGE = 'Our Brand: Summer sale… 30% off everything until Sunday. Reply STOP to opt out.'
const frOut = (keyword: string): KeywordMatch => ({ intent: 'opt_out', keyword, language: 'fr' })
const frHelp: KeywordMatch = { intent: 'help', keyword: 'AIDE', language: 'fr' }

describe('classifyInbound: Canadian French, Spanish, reactions and quotes (both ways)', () => {
  it.each<[string, KeywordMatch]>([
    // ---- Canadian French keywords (CWTA): opt-out and help, replied to in French
    ['ARRÊT', frOut('ARRET')],
    ['ARRET', frOut('ARRET')],
    ['arrêt', frOut('ARRET')],
    ['Arrêt.', frOut('ARRET')],
    ['ARRÊT SVP', frOut('ARRET')],
    ["Arrêt s'il vous plaît", frOut('ARRET')],
    ['arret merci', frOut('ARRET')],
    ['Arrêtez', frOut('ARRET')],
    ["Arrêtez de m'envoyer des messages", frOut('REVOCATION')],
    ['Désabonnez-moi', frOut('REVOCATION')],
    ['je veux me désabonner', frOut('REVOCATION')],
    ['Plus de messages svp', frOut('REVOCATION')],
    ["Ne m'envoyez plus rien", frOut('REVOCATION')],
    ['AIDE', frHelp],
    ['Aide', frHelp],
    ['aide svp', frHelp],
    ['AIDE?', frHelp],
    ['Aidez-moi', frHelp],
    // not French keywords
    ['Prochain arrêt?', none],
    ["C'est où l'arrêt d'autobus?", none],
    ["J'ai besoin d'aide pour ma commande", none],
    ['Merci beaucoup!', none],
    // ---- Spanish, alone and with "por favor"
    ['PARAR', out('REVOCATION')],
    ['Parar por favor', out('REVOCATION')],
    ['ALTO', out('REVOCATION')],
    ['Alto por favor', out('REVOCATION')],
    ['alto por favor!!', out('REVOCATION')],
    ['Por favor alto', out('REVOCATION')],
    ['CANCELAR por favor', out('REVOCATION')],
    ['No más por favor', out('REVOCATION')],
    ['Para', out('REVOCATION')],
    ['Paren ya', out('REVOCATION')],
    ['no quiero más mensajes', out('REVOCATION')],
    // not Spanish opt-outs
    ['El precio es muy alto', none],
    ['¿Está abierto para mañana?', none],
    ['Alto Palermo tiene la oferta?', none],
    ['Gracias por la oferta', none],
    // ---- reactions quote our message, footer and all: never an opt-out
    [`Liked “${OUR_MESSAGE}”`, none],
    [`Loved “${OUR_MESSAGE}”`, none],
    [`Laughed at “${OUR_MESSAGE}”`, none],
    [`Emphasized “${OUR_MESSAGE}”`, none],
    [`Questioned “${OUR_MESSAGE}”`, none],
    [`Disliked “${OUR_MESSAGE}”`, none],
    [`Liked "${OUR_MESSAGE}"`, none],
    [`Reacted 👍 to "${OUR_MESSAGE}"`, none],
    [`Reacted ❤️ to “${OUR_MESSAGE}”`, none],
    [`Removed a heart from “${OUR_MESSAGE}”`, none],
    [`A aimé « ${OUR_MESSAGE} »`, none],
    [`Le gustó “${OUR_MESSAGE}”`, none],
    ['Liked “STOP”', none],
    // ---- our message quoted back, and our footer pasted back
    [`"${OUR_MESSAGE}" What time do you open on Sunday?`, none],
    [`> ${OUR_MESSAGE}\nDo you have it in blue?`, none],
    [`${OUR_MESSAGE} Is this online too?`, none],
    [`“${OUR_MESSAGE}”`, none],
    // ---- a person's own STOP still is one, quote or not
    [`STOP "${OUR_MESSAGE}"`, out('STOP')],
    [`Please stop texting me. “${OUR_MESSAGE}”`, out('STOP')],
    [`> ${OUR_MESSAGE}\nSTOP`, out('STOP')],
    [`Liked “${OUR_MESSAGE}” but stop texting me`, out('STOP')],
    ['I said "STOP"', out('STOP')],
    ['STOP already, I never signed up for this', out('STOP')],
    [FOOTER, out('STOP')],
    // ---- exact-match keywords still win
    ['"STOP"', out('STOP')],
    ['“Stop”', out('STOP')],
    ['« ARRÊT »', frOut('ARRET')],
    ['"HELP"', help('HELP')]
  ])('%j -> %j', (text, expected) => {
    expect(classifyInbound(text, { ownText: [FOOTER] })).toEqual(expected)
  })
})
