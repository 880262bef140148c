"""Encodings: text in each encoding news files come in lands as the text that was written.

Every sample is ours: a short report in the language each encoding serves.
"""

from __future__ import annotations

import codecs
import unicodedata
from pathlib import Path

import pytest

from tracelake import land

RU = (
    "Полиция задержала двенадцать человек по подозрению в торговле людьми.\n\n"
    "По данным следствия, группа вербовала женщин в соседних странах и обещала им работу "
    "в ресторанах. Их паспорта отбирали сразу после пересечения границы.\n"
)
EL = (
    "Η αστυνομία συνέλαβε δώδεκα άτομα για εμπορία ανθρώπων.\n\n"
    "Σύμφωνα με τις αρχές, το κύκλωμα στρατολογούσε γυναίκες από γειτονικές χώρες με "
    "ψεύτικες υποσχέσεις εργασίας και τους αφαιρούσε τα διαβατήρια.\n"
)
CS = (
    "Policie zadržela dvanáct osob podezřelých z obchodování s lidmi.\n\n"
    "Podle vyšetřovatelů skupina lákala ženy ze sousedních zemí falešnými nabídkami práce "
    "v restauracích a po příjezdu jim zabavila pasy.\n"
)
PL = (
    "Policja zatrzymała dwanaście osób podejrzanych o handel ludźmi.\n\n"
    "Według śledczych grupa werbowała kobiety z sąsiednich krajów, obiecując im pracę w "
    "restauracjach, a po przyjeździe odbierała im paszporty.\n"
)
TR = (
    "Polis, insan ticareti şüphesiyle on iki kişiyi gözaltına aldı.\n\n"
    "Soruşturmaya göre çete, komşu ülkelerden kadınları sahte iş vaatleriyle kandırıyor ve "
    "sınırı geçtikten sonra pasaportlarına el koyuyordu.\n"
)
HE = (
    "המשטרה עצרה שנים עשר חשודים בסחר בבני אדם.\n\n"
    "לפי החוקרים, הארגון גייס נשים ממדינות שכנות והבטיח להן עבודה במסעדות, ולאחר הגעתן "
    "החרים את הדרכונים שלהן.\n"
)
AR = (
    "اعتقلت الشرطة اثني عشر شخصا بتهمة الاتجار بالبشر.\n\n"
    "ووفقا للمحققين، كانت العصابة تجند نساء من الدول المجاورة وتعدهن بالعمل في المطاعم، "
    "ثم تصادر جوازات سفرهن بعد عبور الحدود.\n"
)
LT = (
    "Policija sulaikė dvylika asmenų, įtariamų prekyba žmonėmis.\n\n"
    "Tyrėjų teigimu, grupuotė viliojo moteris iš kaimyninių šalių darbo restoranuose "
    "pažadais, o joms atvykus atimdavo pasus.\n"
)
VI = (
    "Cảnh sát đã bắt giữ mười hai người vì tình nghi buôn bán người.\n\n"
    "Theo điều tra, nhóm này đã dụ dỗ phụ nữ từ các nước láng giềng bằng lời hứa việc làm "
    "trong nhà hàng rồi giữ hộ chiếu của họ.\n"
)
FR = (
    "La police a arrêté douze personnes soupçonnées de traite des êtres humains.\n\n"
    "Selon les enquêteurs, le réseau recrutait des femmes à l'étranger en leur promettant un "
    "emploi dans la restauration ; il aurait blanchi 40 000 € via des sociétés écrans.\n"
)
DE = (
    "Die Polizei hat zwölf Personen wegen Menschenhandels festgenommen.\n\n"
    "Nach Angaben der Ermittler lockte die Gruppe Frauen aus Nachbarländern mit falschen "
    "Versprechen und nahm ihnen nach der Einreise die Pässe ab.\n"
)
JA = (
    "警察は人身売買の疑いで十二人を逮捕した。\n\n"
    "捜査によると、このグループは近隣諸国で女性を勧誘し、飲食店での仕事を約束していた。"
    "入国後、女性たちの旅券は取り上げられていた。\n"
)
ZH = (
    "警方以涉嫌拐卖人口为由逮捕了十二人。\n\n"
    "据调查，该团伙在邻国招募妇女，并承诺为她们提供餐馆工作。入境后，她们的护照被没收。\n"
)
ZH_HANT = (
    "警方以涉嫌販賣人口為由逮捕了十二人。\n\n"
    "據調查，該團夥在鄰國招募婦女，並承諾為她們提供餐館工作。入境後，她們的護照被沒收。\n"
)

# Vietnamese in Windows-1258 keeps its tone marks apart from the letters (the code page has
# no precomposed letters with tones): the text is written so and compared composed (NFC).
TONE_MARKS = {0x300, 0x301, 0x303, 0x309, 0x323}


def cp1258(text: str) -> bytes:
    out = b""
    for char in text:
        try:
            out += char.encode("cp1258")
        except UnicodeEncodeError:
            base, *marks = unicodedata.normalize("NFD", char)
            kept = "".join(m for m in marks if ord(m) not in TONE_MARKS)
            tones = "".join(m for m in marks if ord(m) in TONE_MARKS)
            out += (unicodedata.normalize("NFC", base + kept) + tones).encode("cp1258")
    return out


SAMPLES = {
    "utf-16 with BOM": (FR.encode("utf-16"), FR),
    "utf-16-le without BOM": (DE.encode("utf-16-le"), DE),
    "utf-16-be without BOM": (RU.encode("utf-16-be"), RU),
    "utf-32 with BOM": (EL.encode("utf-32"), EL),
    "utf-32-le without BOM": (FR.encode("utf-32-le"), FR),
    "utf-32-be without BOM": (PL.encode("utf-32-be"), PL),
    "cp1250": (CS.encode("cp1250"), CS),
    "cp1251": (RU.encode("cp1251"), RU),
    "cp1252": (FR.replace("€", "euros").encode("cp1252"), FR.replace("€", "euros")),
    "cp1253": (EL.encode("cp1253"), EL),
    "cp1254": (TR.encode("cp1254"), TR),
    "cp1255": (HE.encode("cp1255"), HE),
    "cp1256": (AR.encode("cp1256"), AR),
    "cp1257": (LT.encode("cp1257"), LT),
    "cp1258": (cp1258(VI), VI),
    "iso8859-1": (DE.encode("iso8859_1"), DE),
    "iso8859-2": (PL.encode("iso8859_2"), PL),
    "iso8859-5": (RU.encode("iso8859_5"), RU),
    "iso8859-7": (EL.encode("iso8859_7"), EL),
    "iso8859-15": (FR.encode("iso8859_15"), FR),
    "koi8-r": (RU.encode("koi8_r"), RU),
    "shift_jis": (JA.encode("shift_jis"), JA),
    "gb18030": (ZH.encode("gb18030"), ZH),
    "big5": (ZH_HANT.encode("big5"), ZH_HANT),
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_text_in_each_encoding_lands_as_written(name: str) -> None:
    data, written = SAMPLES[name]
    text, _, problems = land.decode(data)
    assert unicodedata.normalize("NFC", text).lstrip("\ufeff") == written
    assert problems == []


def test_utf16_byte_order_mark_with_broken_bytes_after_it_is_unreadable() -> None:
    with pytest.raises(land.UnreadableInput, match="after its byte-order mark"):
        land.decode(codecs.BOM_UTF16_LE + b"a\x00\x00\xd8")


def test_a_doubtful_guess_lands_with_a_note() -> None:
    # bytes Windows-1252 leaves undefined, among plain English: any Cyrillic code page reads
    # them, none better than another
    text, encoding, problems = land.decode(b"Police \x81\x8d arrested \xe9 people " * 4)
    assert text.startswith("Police ") and encoding
    assert len(problems) == 1 and "low confidence" in problems[0]


def test_bytes_no_encoding_reads_are_quarantined(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    (source / "noise.txt").write_bytes(bytes(range(128, 256)) * 20)
    (source / "ru.txt").write_bytes(RU.encode("cp1251"))
    result = land.land_files(sorted(source.iterdir()), source, "run", set(), 10**6)
    assert [q.file for q in result.quarantined] == ["noise.txt"]
    assert "no known encoding" in result.quarantined[0].reason
    [row] = result.documents.to_pylist()
    assert row["source_file"] == "ru.txt" and row["encoding"] == "cp1251"
    assert "торговле людьми" in row["text"]
