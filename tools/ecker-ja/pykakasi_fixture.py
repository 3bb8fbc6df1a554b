"""Writes tests/VallE.Tests/Text/Ecker/pykakasi-hira.json: what pykakasi itself returns as upstream's
coerce_to_hiragana (e-c-k-e-r/vall-e 73833ee vall_e/emb/g2p.py: "".join(r["hira"] for r in kakasi().convert(text))).

Needs pykakasi 2.3.0 importable (pip install pykakasi==2.3.0; it is GPL-3.0 and not part of VallE.NET). Only
pykakasi's outputs are stored. Kanji (CJK ideographs) are left out of the generated text: VallE.NET reads them with
OpenJTalk, not pykakasi's dictionary; everything else should match exactly.

    python3 tools/ecker-ja/pykakasi_fixture.py > tests/VallE.Tests/Text/Ecker/pykakasi-hira.json
"""
import json
import random
import sys

import pykakasi


SENTENCES = [
    "今日は良い天気ですね。",
    "私の名前は田中です。",
    "東京駅から新幹線に乗りました。",
    "日本語を勉強しています。",
    "この本はとても面白かった。",
    "明日は雨が降るでしょう。",
    "彼女は毎朝六時に起きる。",
    "駅の近くに新しい店ができた。",
    "子供たちが公園で遊んでいる。",
    "会議は午後三時に始まります。",
    "お父さんは会社員です。",
    "電車が遅れて学校に遅刻した。",
    "冷蔵庫に牛乳がありません。",
    "春になると桜が咲きます。",
    "先生に質問してもいいですか。",
    "図書館で静かに本を読む。",
    "山の上から海が見える。",
    "友達と映画を見に行きたい。",
    "昨日の夜、変な夢を見た。",
    "この料理は本当に美味しい。",
    "大切なのは諦めないことだ。",
    "世界中の人々が平和を願っている。",
    "彼は医者になりたいと言った。",
    "窓を開けてもよろしいですか。",
    "一週間後に結果が分かります。",
    "手紙を書くのは久しぶりだ。",
    "東北地方は寒い。",
    "人間は考える葦である。",
    "猫が机の上で寝ている。",
    "花火大会に浴衣を着て行った。",
]


def hira(kks, text):
    return "".join(r["hira"] for r in kks.convert(text))


def is_ideograph(c):
    return 0x3400 <= c <= 0x4DBF or 0x4E00 <= c <= 0x9FFF or 0xF900 <= c <= 0xFAFF


def main():
    kks = pykakasi.kakasi()
    # Every code point below U+10000 that is not an ideograph or a surrogate, between two katakana (ア c ア), and a
    # few above. Runs of code points whose output is "あ" + c + "あ" (kept), "ああ" + "あ" (dropped, the piece before
    # it output twice) or "あ" (dropped with the character after it) are stored as ranges; the others one by one.
    singles = {}
    ranges = []
    # Left out: the variation selectors pykakasi's variant table deletes (U+FE00, U+FE01, U+E0100..): outside a kanji
    # word they make pykakasi read the next character as a kanji, or fail (IndexError) at the end of the text.
    points = [c for c in range(0x0000, 0x10000)
              if not is_ideograph(c) and not 0xD800 <= c <= 0xDFFF and c not in (0xFE00, 0xFE01)]
    points += [0x1B150, 0x1B151, 0x1B152, 0x1B164, 0x1B165, 0x1B166, 0x1B167, 0x1F600, 0x20B9F]
    for c in points:
        out = hira(kks, "ア" + chr(c) + "ア")
        kind = ("kept" if out == "あ" + chr(c) + "あ" else "dropped" if out == "あああ"
                else "skips the next" if out == "あ" else None)
        if kind is None:
            singles[f"{c:04X}"] = out
            continue
        if ranges and ranges[-1][2] == kind and ranges[-1][1] == c - 1:
            ranges[-1][1] = c
        else:
            ranges.append([c, c, kind])

    # Random mixes of the classes pykakasi tells apart (no kanji).
    pool = (list("あいうえおかがきゃっーんゔゕゖ") + list("アイウカガキャッーンヴヵヶヷヺ・") + list("ｱｲｳｶｷﾊﾟﾞｰｯｬｦﾝｳﾞ")
            + list(" abcXYZ019.,!?)]([-'\"") + list("、。？！０＞＜「」『』（）…―−〜・ＡＢａ１") + list("ΑβЖё¡é×")
            + ["\n", "\t", "\u3000", "😀", "｡", "､", "；", "＝", "ヽ", "ゝ", "々", "〆", "한", "ꀀ", "\uFE0F", "\u00A0", "ā"])
    rng = random.Random(15)
    mixes = []
    for _ in range(400):
        text = "".join(rng.choice(pool) for _ in range(rng.randint(1, 40)))
        mixes.append({"text": text, "hira": hira(kks, text)})
    long_runs = ["ｱ" * 30 + "ｶﾞ", "ｱ" * 31 + "ｶﾞ", "ｱ" * 63 + "ﾀﾞ", "ア" * 40 + "ｶﾞ" * 20, "ｱ" * 31 + "ｶアイ", "あ" * 40 + "ｶ" * 40]
    mixes += [{"text": t, "hira": hira(kks, t)} for t in long_runs]

    # Everyday sentences with kanji: pykakasi's own readings, to measure how often OpenJTalk's agree (not exact).
    sentences = [{"text": t, "hira": hira(kks, t)} for t in SENTENCES]

    json.dump({"pykakasi": pykakasi.__version__ if hasattr(pykakasi, "__version__") else "2.3.0",
               "context": "ア{c}ア", "ranges": ranges, "singles": singles, "mixes": mixes, "sentences": sentences},
              sys.stdout, ensure_ascii=False, indent=0)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
