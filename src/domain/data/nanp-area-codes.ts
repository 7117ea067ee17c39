/**
 * North American Numbering Plan (+1) geographic area codes (NPAs): region,
 * country and the IANA time zone(s) each one spans.
 *
 * Sources:
 * - Authoritative: NANPA area code assignments (nationalnanpa.com NPA reports
 *   and planning letters) for which NPAs are geographic / in service and the
 *   state, province or territory each serves; IANA tz database zone
 *   boundaries for the zones each NPA spans.
 * - Compiled from: Google libphonenumber (2026 releases) geocoding data
 *   (resources/geocoding/en/1.txt), validity metadata and time-zone map
 *   (resources/timezones/map_data.txt), with the zones of straddling NPAs
 *   curated by hand against the tz zone boundaries (libphonenumber's zone map
 *   has known errors, e.g. Central time for 689 Orlando and 865 Knoxville).
 *   Overlays announced by NANPA but not yet in libphonenumber (357, 436, 624,
 *   861) are included so their numbers resolve as soon as they appear.
 * - When NANPA announces a new NPA, add it to the line of the NPA it overlays.
 *
 * Table format, one group per line:
 *
 *   REGION  COUNTRY  ZONE [ZONE…] | NPA NPA …   # optional note
 *
 * - REGION: USPS code of the state / DC / territory, or Canadian province
 *   code; several joined by '/' when one NPA serves several (902: NS/PE,
 *   867: YT/NT/NU); '-' for the independent Caribbean NANP countries.
 * - COUNTRY: ISO 3166 code. US territories (PR, VI, GU, MP, AS) are 'US' with
 *   the territory as REGION, because US federal rules (TCPA; 47 U.S.C. 153
 *   defines "United States" to include the territories) apply to them.
 * - ZONES: every zone the NPA covers, the most populous first. Zones are
 *   listed only when their clock differs from the others for part of the year
 *   (e.g. America/Boise vs America/Los_Angeles for 208); zones whose local
 *   time always equals one of the listed ones (America/Dawson_Creek,
 *   America/Blanc-Sablon, America/Atikokan, …) are omitted. Where an area's
 *   de-facto time differs from the legal one (West Wendover NV, Culberson
 *   County TX) the de-facto zone is included too: an extra zone only makes
 *   the quiet-hours check stricter.
 * - Non-geographic NPAs (toll-free 800/833/844/855/866/877/888, premium 900,
 *   personal-communications 5XX, Canadian 600/622/633, 700, 710) are absent
 *   on purpose. 273 (valid for CA in libphonenumber) is absent until its
 *   province is confirmed; unknown NPAs fall back to the country lookup.
 */

export interface NanpAreaCode {
  /** Three-digit area code, e.g. '212'. */
  npa: string
  /** ISO 3166 alpha-2: 'US', 'CA', or the Caribbean country. */
  country: string
  /** State / province / territory codes; several when shared, empty for countries without regions here. */
  regions: readonly string[]
  /** IANA zones spanned, most populous first; never empty. */
  timeZones: readonly string[]
}

const TABLE = `
AK       US  America/Anchorage America/Adak               | 907  # Aleutians west of 169.5°W: Hawaii-Aleutian time
AL       US  America/Chicago                              | 205 251 256 334 659 938
AR       US  America/Chicago                              | 327 479 501 870
AS       US  Pacific/Pago_Pago                            | 684
AZ       US  America/Phoenix                              | 480 520 602 623
AZ       US  America/Phoenix America/Denver               | 928  # Navajo Nation observes DST
CA       US  America/Los_Angeles                          | 209 213 279 310 323 341 350 357 369 408 415 424 442 510  # 357: 559 overlay announced by NANPA
CA       US  America/Los_Angeles                          | 530 559 562 619 626 628 650 657 661 669 707 714 738 747
CA       US  America/Los_Angeles                          | 760 805 818 820 831 840 858 909 916 925 949 951
CO       US  America/Denver                               | 303 719 720 748 970 983
CT       US  America/New_York                             | 203 475 860 959
DC       US  America/New_York                             | 202 771
DE       US  America/New_York                             | 302
FL       US  America/Chicago America/New_York             | 448 850  # panhandle west of the Apalachicola River is Central
FL       US  America/New_York                             | 239 305 321 324 352 386 407 561 645 656 689 727 728 754
FL       US  America/New_York                             | 772 786 813 863 904 941 954
GA       US  America/New_York                             | 229 404 470 478 678 706 762 770 912 943
GU       US  Pacific/Guam                                 | 671
HI       US  Pacific/Honolulu                             | 808
IA       US  America/Chicago                              | 319 515 563 641 712
ID       US  America/Boise America/Los_Angeles            | 208 986  # north Idaho (panhandle) is Pacific
IL       US  America/Chicago                              | 217 224 309 312 331 447 464 618 630 708 730 773 779 815  # 861: 815/779 overlay announced by NANPA
IL       US  America/Chicago                              | 847 861 872
IN       US  America/Chicago America/Indiana/Indianapolis | 219  # Lake/Porter/LaPorte… Central; Pulaski etc. Eastern
IN       US  America/Indiana/Indianapolis                 | 260 317 463 765
IN       US  America/Indiana/Indianapolis America/Chicago | 574 812 930  # 574: Starke Co. Central; 812/930: Evansville area Central
KS       US  America/Chicago                              | 316 913
KS       US  America/Chicago America/Denver               | 620 785  # Sherman/Wallace (785), Greeley/Hamilton (620) are Mountain
KY       US  America/Chicago America/New_York             | 270 364  # western Kentucky Central, Elizabethtown area Eastern
KY       US  America/New_York                             | 502 859
KY       US  America/New_York America/Chicago             | 606  # Clinton and Cumberland counties are Central
LA       US  America/Chicago                              | 225 318 337 504 985
MA       US  America/New_York                             | 339 351 413 508 617 774 781 857 978
MD       US  America/New_York                             | 227 240 301 410 443 667
ME       US  America/New_York                             | 207
MI       US  America/Detroit                              | 231 248 269 313 517 586 616 734 810 947 989
MI       US  America/Detroit America/Menominee            | 906  # Upper Peninsula counties bordering Wisconsin are Central
MN       US  America/Chicago                              | 218 320 507 612 651 763 952
MO       US  America/Chicago                              | 235 314 417 557 573 636 660 816 975
MP       US  Pacific/Saipan                               | 670
MS       US  America/Chicago                              | 228 601 662 769
MT       US  America/Denver                               | 406
NC       US  America/New_York                             | 252 336 472 704 743 828 910 919 980 984
ND       US  America/Chicago America/Denver               | 701  # south-west North Dakota is Mountain
NE       US  America/Chicago                              | 402 531
NE       US  America/Chicago America/Denver               | 308  # panhandle is Mountain
NH       US  America/New_York                             | 603
NJ       US  America/New_York                             | 201 551 609 640 732 848 856 862 908 973
NM       US  America/Denver                               | 505 575
NV       US  America/Los_Angeles                          | 702 725
NV       US  America/Los_Angeles America/Denver           | 775  # West Wendover and Jackpot keep Mountain time
NY       US  America/New_York                             | 212 315 329 332 347 363 516 518 585 607 624 631 646 680  # 624: 716 overlay announced by NANPA
NY       US  America/New_York                             | 716 718 838 845 914 917 929 934
OH       US  America/New_York                             | 216 220 234 283 326 330 380 419 436 440 513 567 614 740  # 436: 440 overlay
OH       US  America/New_York                             | 937
OK       US  America/Chicago                              | 405 539 572 580 918
OR       US  America/Los_Angeles                          | 503 971
OR       US  America/Los_Angeles America/Boise            | 458 541  # Malheur County is Mountain
PA       US  America/New_York                             | 215 223 267 272 412 445 484 570 582 610 717 724 814 835
PA       US  America/New_York                             | 878
PR       US  America/Puerto_Rico                          | 787 939
RI       US  America/New_York                             | 401
SC       US  America/New_York                             | 803 821 839 843 854 864
SD       US  America/Chicago America/Denver               | 605  # west of the Missouri River mostly Mountain
TN       US  America/Chicago                              | 615 629 731 901 931
TN       US  America/New_York                             | 865
TN       US  America/New_York America/Chicago             | 423  # Chattanooga/Tri-Cities Eastern; Sequatchie Valley etc. Central
TX       US  America/Chicago                              | 210 214 254 281 325 346 361 409 430 469 512 682 713 726
TX       US  America/Chicago                              | 737 806 817 830 832 903 936 940 945 956 972 979
TX       US  America/Chicago America/Denver               | 432  # Culberson County area partly keeps Mountain time
TX       US  America/Denver                               | 915  # El Paso and Hudspeth counties
UT       US  America/Denver                               | 385 435 801
VA       US  America/New_York                             | 276 434 540 571 686 703 757 804 826 948
VI       US  America/St_Thomas                            | 340
VT       US  America/New_York                             | 802
WA       US  America/Los_Angeles                          | 206 253 360 425 509 564
WI       US  America/Chicago                              | 262 274 353 414 534 608 715 920
WV       US  America/New_York                             | 304 681
WY       US  America/Denver                               | 307
AB       CA  America/Edmonton                             | 368 403 587 780 825
BC       CA  America/Vancouver                            | 604
BC       CA  America/Vancouver America/Edmonton           | 236 250 257 672 778  # East Kootenay is Mountain; Peace River/Creston MST all year
MB       CA  America/Winnipeg                             | 204 431 584
NB       CA  America/Moncton                              | 428 506
NL       CA  America/St_Johns America/Goose_Bay           | 709 879  # Labrador (mostly Atlantic time)
NS/PE    CA  America/Halifax                              | 782 902  # shared by Nova Scotia and Prince Edward Island
ON       CA  America/Toronto                              | 226 249 289 343 365 382 416 437 519 548 613 647 683 705
ON       CA  America/Toronto                              | 742 753 905 942
ON       CA  America/Toronto America/Winnipeg             | 807  # Kenora/Rainy River districts are Central
QC       CA  America/Toronto                              | 263 354 438 450 468 514 579 819 873
QC       CA  America/Toronto America/Halifax              | 367 418 581  # Magdalen Islands and Lower North Shore are Atlantic
SK       CA  America/Regina                               | 306 474 639
YT/NT/NU CA  America/Whitehorse America/Edmonton America/Rankin_Inlet America/Iqaluit | 867  # Yukon, Northwest Territories, Nunavut (three zones)
-        AG  America/Antigua                              | 268
-        AI  America/Anguilla                             | 264
-        BB  America/Barbados                             | 246
-        BM  Atlantic/Bermuda                             | 441
-        BS  America/Nassau                               | 242
-        DM  America/Dominica                             | 767
-        DO  America/Santo_Domingo                        | 809 829 849
-        GD  America/Grenada                              | 473
-        JM  America/Jamaica                              | 658 876
-        KN  America/St_Kitts                             | 869
-        KY  America/Cayman                               | 345
-        LC  America/St_Lucia                             | 758
-        MS  America/Montserrat                           | 664
-        SX  America/Lower_Princes                        | 721
-        TC  America/Grand_Turk                           | 649
-        TT  America/Port_of_Spain                        | 868
-        VC  America/St_Vincent                           | 784
-        VG  America/Tortola                              | 284
`

function parseTable (table: string): ReadonlyMap<string, NanpAreaCode> {
  const byNpa = new Map<string, NanpAreaCode>()
  for (const raw of table.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim()
    if (line === '') continue
    const [left = '', right = ''] = line.split('|')
    const [region = '', country = '', ...timeZones] = left.trim().split(/\s+/)
    const npas = right.trim().split(/\s+/)
    if (!/^[A-Z]{2}$/.test(country) || timeZones.length === 0 || npas.length === 0) {
      throw new Error(`nanp-area-codes: malformed line: ${raw}`)
    }
    const regions = region === '-' ? [] : region.split('/')
    for (const npa of npas) {
      if (!/^[2-9]\d\d$/.test(npa) || byNpa.has(npa)) {
        throw new Error(`nanp-area-codes: bad or duplicate NPA ${npa}`)
      }
      byNpa.set(npa, Object.freeze({
        npa,
        country,
        regions: Object.freeze([...regions]),
        timeZones: Object.freeze([...timeZones])
      }))
    }
  }
  return byNpa
}

/** Every geographic +1 area code, keyed by the three-digit NPA. */
export const NANP_AREA_CODES: ReadonlyMap<string, NanpAreaCode> = parseTable(TABLE)

/** Look up a three-digit area code; undefined when unknown or non-geographic. */
export function nanpAreaCode (npa: string): NanpAreaCode | undefined {
  return NANP_AREA_CODES.get(npa)
}
