"""The one home of stop words: scikit-learn's English list plus one list of research-paper
boilerplate. Pure data, no I/O.

- `ENGLISH`: scikit-learn's `ENGLISH_STOP_WORDS` (318 words, BSD licence), kept here as data so that
  importing it does not import scikit-learn (over a second on a busy machine); a test pins it to
  scikit-learn's own list. Plus `ENGLISH_EXTRA`, five common words that list lacks.
- `DOMAIN`: words every research abstract uses ("propose", "method", "results", "model",
  "state of the art"), which say nothing about what a paper is about.
- `CITEKEY_SKIP`: the function words a BibTeX key skips at the start of a title; a subset of
  `ENGLISH` kept small on purpose, so that keys stay what they were ("HowTo..." papers keep "how").

Users: similar papers' query words (`ENGLISH | ENGLISH_EXTRA | DOMAIN`), topic labels
(`ENGLISH | DOMAIN`), profile author candidates' topic words, BibTeX keys. Search queries drop
their own shorter list (storage/fts.py), since a user's query is not a paper's boilerplate.
"""

from __future__ import annotations

_ENGLISH = """
    a about above across after afterwards again against all almost alone along already also
    although always am among amongst amoungst amount an and another any anyhow anyone anything
    anyway anywhere are around as at back be became because become becomes becoming been before
    beforehand behind being below beside besides between beyond bill both bottom but by call can
    cannot cant co con could couldnt cry de describe detail do done down due during each eg
    eight either eleven else elsewhere empty enough etc even ever every everyone everything
    everywhere except few fifteen fifty fill find fire first five for former formerly forty
    found four from front full further get give go had has hasnt have he hence her here
    hereafter hereby herein hereupon hers herself him himself his how however hundred i ie if in
    inc indeed interest into is it its itself keep last latter latterly least less ltd made many
    may me meanwhile might mill mine more moreover most mostly move much must my myself name
    namely neither never nevertheless next nine no nobody none noone nor not nothing now nowhere
    of off often on once one only onto or other others otherwise our ours ourselves out over own
    part per perhaps please put rather re same see seem seemed seeming seems serious several she
    should show side since sincere six sixty so some somehow someone something sometime
    sometimes somewhere still such system take ten than that the their them themselves then
    thence there thereafter thereby therefore therein thereupon these they thick thin third this
    those though three through throughout thru thus to together too top toward towards twelve
    twenty two un under until up upon us very via was we well were what whatever when whence
    whenever where whereafter whereas whereby wherein whereupon wherever whether which while
    whither who whoever whole whom whose why will with within without would yet you your yours
    yourself yourselves
"""
ENGLISH = frozenset(_ENGLISH.split())

ENGLISH_EXTRA = frozenset({"did", "does", "doing", "having", "just"})

_DOMAIN = """
    abilities ability accuracy achieve achieved achieves additionally address addresses analysis
    approach approaches art available based baseline baselines benchmark benchmarks best better
    capabilities capability challenge challenges code com compared comprehensive data dataset
    datasets deep demonstrate demonstrates demonstrating different effective effectively
    effectiveness efficient efficiently enable enables enabling evaluate evaluating evaluation
    evaluations existing experimental experiments extensive finally findings framework
    frameworks furthermore generally github high however http https improve improved improvement
    improvements improves including introduce introduces introducing io key large leading
    learning leverage leverages leveraging like low method methodology methods model models
    moreover network networks neural new novel outperform outperforming outperforms page paper
    paradigm particular particularly performance present presents previous prior problem
    problems project propose proposed proposes publicly recent recently release released
    research result results robust robustness scenario scenarios setting settings show shown
    shows significant significantly simple small sota specifically state state-of-the-art
    strategies strategy studies study superior task tasks technique techniques therefore thus
    train trained training typically use used uses using various work www
"""
DOMAIN = frozenset(_DOMAIN.split())

CITEKEY_SKIP = frozenset(
    {"a", "an", "the", "on", "of", "in", "for", "to", "and", "with", "from", "via", "is", "are", "towards"}
)

STOP_WORDS = ENGLISH | ENGLISH_EXTRA | DOMAIN  # what a paper's own words are matched without
