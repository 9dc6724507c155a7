"""Build tests/data/sync/*.xml: real arXiv metadata (shared arxiv-118k corpus) in the arXiv API's Atom envelope.

The machine that saved these had no access to arXiv, so the entries (ids, titles, abstracts,
authors, categories, comments) are real and the envelope follows the API's answers in
tests/data/arxiv/; `published` is the corpus's listing date. Run from the repository root.
"""

import json
import lzma
from xml.sax.saxutils import escape

rows = {}
with lzma.open("/work/shared/corpora/arxiv-118k/arxiv_metadata.jsonl.xz", "rt") as f:
    for line in f:
        d = json.loads(line)
        if d["categories"][0] == "cs.CL" and d["listing_date"] in ("2026-06-30", "2026-07-01", "2026-07-02"):
            rows.setdefault(d["listing_date"], []).append(d)


def want(d):
    t = d["title"].lower()
    return any(w in t for w in ("retrieval", "rag", "translation", "speech", "reasoning", "summar"))


day1 = [d for d in rows["2026-06-30"] if want(d)][:8]
day2 = [d for d in rows["2026-07-01"] if want(d)][:3]


def entry(d):
    pub = d["listing_date"] + "T00:00:00Z"
    authors = "".join(f"\n    <author>\n      <name>{escape(a)}</name>\n    </author>" for a in d["authors"])
    cats = "".join(
        f'\n    <category term="{c}" scheme="http://arxiv.org/schemas/atom"/>' for c in d["categories"]
    )
    comment = (
        f'\n    <arxiv:comment xmlns:arxiv="http://arxiv.org/schemas/atom">{escape(d["comment"])}</arxiv:comment>'
        if d.get("comment")
        else ""
    )
    return f"""  <entry>
    <id>http://arxiv.org/abs/{d["id"]}v1</id>
    <updated>{pub}</updated>
    <published>{pub}</published>
    <title>{escape(d["title"])}</title>
    <summary>{escape(d["abstract"])}</summary>{authors}{comment}
    <link href="http://arxiv.org/abs/{d["id"]}v1" rel="alternate" type="text/html"/>
    <link title="pdf" href="http://arxiv.org/pdf/{d["id"]}v1" rel="related" type="application/pdf"/>
    <arxiv:primary_category xmlns:arxiv="http://arxiv.org/schemas/atom" term="{d["categories"][0]}" scheme="http://arxiv.org/schemas/atom"/>{cats}
  </entry>
"""


def page(query, entries, total, start, per):
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <link href="http://arxiv.org/api/query?search_query={escape(query)}" rel="self" type="application/atom+xml"/>
  <title type="html">ArXiv Query: search_query={escape(query)}&amp;start={start}&amp;max_results={per}</title>
  <id>http://arxiv.org/api/sync-test</id>
  <updated>2026-07-01T00:00:00-04:00</updated>
  <opensearch:totalResults xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">{total}</opensearch:totalResults>
  <opensearch:startIndex xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">{start}</opensearch:startIndex>
  <opensearch:itemsPerPage xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">{per}</opensearch:itemsPerPage>
{"".join(entry(d) for d in entries)}</feed>
"""


q1 = "cat:cs.CL AND submittedDate:[202606290000 TO 202607012359]"
q2 = "cat:cs.CL AND submittedDate:[202607010000 TO 202607022359]"
# the second day: one paper again (announced late, already synced) and three new ones
pages = {
    "run1_start0": page(q1, day1[:5], 8, 0, 5),
    "run1_start5": page(q1, day1[5:], 8, 5, 5),
    "run2_start0": page(q2, [day1[-1]] + day2, 4, 0, 5),
}
for name, text in pages.items():
    with open(f"tests/data/sync/cs.CL_{name}.xml", "w") as out:
        out.write(text)

# ---------------------------------------------------------------- OAI-PMH (arXiv metadata format)
# an incremental harvest of the set "cs" from 2026-06-29 in two pages (a resumption token between
# them), records of several cs categories; then a harvest that finds nothing (noRecordsMatch)

OAI_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.openarchives.org/OAI/2.0/ http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd">
<responseDate>2026-07-01T09:12:44Z</responseDate>
"""


def oai_record(d):
    authors = "".join(
        f"<author><keyname>{escape(a.rsplit(' ', 1)[-1])}</keyname>"
        + (f"<forenames>{escape(a.rsplit(' ', 1)[0])}</forenames>" if " " in a else "")
        + "</author>"
        for a in d["authors"]
    )
    comments = f"<comments>{escape(d['comment'])}</comments>" if d.get("comment") else ""
    return f"""<record>
<header>
 <identifier>oai:arXiv.org:{d["id"]}</identifier>
 <datestamp>{d["listing_date"]}</datestamp>
 <setSpec>cs</setSpec>
</header>
<metadata>
 <arXiv xmlns="http://arxiv.org/OAI/arXiv/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://arxiv.org/OAI/arXiv/ http://arxiv.org/OAI/arXiv.xsd">
 <id>{d["id"]}</id><created>{d["listing_date"]}</created><authors>{authors}</authors><title>{escape(d["title"])}</title><categories>{" ".join(d["categories"])}</categories>{comments}<license>http://creativecommons.org/licenses/by/4.0/</license><abstract>{escape(d["abstract"])}</abstract></arXiv>
</metadata>
</record>
"""


cs = []
with lzma.open("/work/shared/corpora/arxiv-118k/arxiv_metadata.jsonl.xz", "rt") as f:
    for line in f:
        d = json.loads(line)
        if d["listing_date"] == "2026-06-30" and d["categories"][0] in ("cs.CL", "cs.CV", "cs.LG"):
            cs.append(d)
picked = [d for d in cs if d["categories"][0] == "cs.CL"][8:14] + [
    d for d in cs if d["categories"][0] != "cs.CL"
][:3]
page1, page2 = picked[:4] + picked[6:8], picked[4:6] + picked[8:]
request = '<request verb="ListRecords" metadataPrefix="arXiv" set="cs" from="2026-06-29">https://oaipmh.arxiv.org/oai</request>\n'
with open("tests/data/sync/oai_cs_page1.xml", "w") as out:
    out.write(
        OAI_HEAD
        + request
        + "<ListRecords>\n"
        + "".join(oai_record(d) for d in page1)
        + '<resumptionToken cursor="0" completeListSize="9">6961466|1001</resumptionToken>\n</ListRecords>\n</OAI-PMH>\n'
    )
with open("tests/data/sync/oai_cs_page2.xml", "w") as out:
    out.write(
        OAI_HEAD
        + '<request verb="ListRecords" resumptionToken="6961466|1001">https://oaipmh.arxiv.org/oai</request>\n'
        + "<ListRecords>\n"
        + "".join(oai_record(d) for d in page2)
        + '<resumptionToken cursor="6" completeListSize="9"/>\n</ListRecords>\n</OAI-PMH>\n'
    )
with open("tests/data/sync/oai_no_records.xml", "w") as out:
    out.write(
        OAI_HEAD.replace("2026-07-01T09", "2026-07-02T09")
        + '<request verb="ListRecords" metadataPrefix="arXiv" set="cs" from="2026-07-01">https://oaipmh.arxiv.org/oai</request>\n'
        + '<error code="noRecordsMatch">The combination of the values of the from, until, set and metadataPrefix arguments results in an empty list.</error>\n</OAI-PMH>\n'
    )
