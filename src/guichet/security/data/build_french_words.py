"""Build french-words.txt from Debian's French word list (package wfrench, GPL-2+).

Run at development time only (the result is committed):
    apt-get install wfrench
    python src/guichet/security/data/build_french_words.py

Why: a password that is one French word dressed with digits and symbols ("Papillon1!") falls in
seconds to a dictionary attack, whatever its length; zxcvbn only knows English words. We keep the
base forms (not every plural and conjugated form: the file would be ten times bigger for little
gain), lower case, without accents, 4 to 10 letters, shortest first (shorter words are the more
common ones, which is the order the strength gauge uses as rank).
"""

from __future__ import annotations

import sys
import unicodedata
from pathlib import Path

SOURCE = Path("/usr/share/dict/french")
TARGET = Path(__file__).with_name("french-words.txt")

# Endings of conjugated verb forms; the infinitive stays in the list.
_CONJUGATED = (
    "ait", "aient", "ais", "ions", "iez", "èrent", "erez", "eront", "erai", "eras", "erons", "asse",
    "asses", "assent", "assiez", "assions", "âmes", "âtes", "ât", "erait", "eraient", "issent",
    "issez", "issons", "issait", "irent", "îmes", "îtes", "ant", "ez", "ons", "ée", "ées", "és",
)


def plain(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return bare.replace("œ", "oe").replace("æ", "ae")


def is_base_form(word: str, known: set[str]) -> bool:
    if word.endswith(("s", "x")) and word[:-1] in known:
        return False  # plural
    if word.endswith("e") and word[:-1] in known:
        return False  # feminine
    if word.endswith("es") and word[:-2] in known:
        return False
    if word.endswith(_CONJUGATED) and not word.endswith("ment"):
        return False
    return not _is_verb_form(word, known)


# Endings that, put after a verb's stem, make a conjugated form ("flanquera" from "flanquer"); not
# "e" or "ent", which would also drop nouns ("fromage" beside "fromager", "parent" beside "parer").
_VERB_ENDINGS = ("a", "ai", "as", "era", "erai", "eras", "i", "is", "it", "u", "ue", "ues",
                 "us", "ra", "rai", "ras", "isse", "isses", "âmes", "ît", "ût")


def _is_verb_form(word: str, known: set[str]) -> bool:
    for ending in _VERB_ENDINGS:
        if word.endswith(ending) and len(word) > len(ending) + 2:
            stem = word[: -len(ending)]
            infinitives = {stem + ending for ending in ("er", "ir", "re")} - {word}
            if infinitives & known:
                return True
    return False


def build(source: Path = SOURCE) -> list[str]:
    words = [w.strip() for w in source.read_text(encoding="utf-8").splitlines()]
    known = {w for w in words if w.isalpha() and w.islower()}
    chosen = {plain(w) for w in known if 4 <= len(w) <= 10 and is_base_form(w, known)}
    chosen = {w for w in chosen if w.isascii() and w.isalpha()}
    return sorted(chosen, key=lambda w: (len(w), w))


def main() -> None:
    words = build()
    header = (
        "# French words, base forms, lower case without accents; built by build_french_words.py\n"
        "# from Debian's wfrench word list (Copyright 1989 Paul Leyland, GPL-2+).\n"
    )
    TARGET.write_text(header + "\n".join(words) + "\n", encoding="utf-8")
    print(f"{len(words)} words written to {TARGET}", file=sys.stderr)


if __name__ == "__main__":
    main()
