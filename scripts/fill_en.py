"""Fill English translations in translations/en from translations/en.tsv (msgid<TAB>English)."""

import csv
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "translations" / "en" / "LC_MESSAGES" / "messages.po"
TSV = ROOT / "translations" / "en.tsv"

terms = {}
with open(TSV, encoding="utf-8") as fh:
    for row in csv.reader(fh, delimiter="\t"):
        if len(row) >= 2 and row[0] and not row[0].startswith("#"):
            terms[row[0]] = row[1]
with open(PO, "rb") as fh:
    catalog = read_po(fh)
missing = []
for message in catalog:
    if not message.id:
        continue
    if isinstance(message.id, str) and message.id in terms:
        message.string = terms[message.id]
        message.flags.discard("fuzzy")
    elif not message.string:
        missing.append(message.id)
with open(PO, "wb") as fh:
    write_po(fh, catalog, width=0)
print(f"{len(terms)} terms; untranslated: {len(missing)}")
for m in missing[:50]:
    print("  ", m, file=sys.stderr)
