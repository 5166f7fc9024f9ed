#!/usr/bin/python3
"""Fit grounded's answer model from candidate dumps.

    grounded eval questions --questions Q.jsonl --data DIR --dump pyd.jsonl
    grounded eval qa --squad dev-v2.0.tune.json --dump squad.jsonl
    /usr/bin/python3 answer/train/fit.py pyd.jsonl squad.jsonl

Needs numpy (Debian: python3-numpy). Two logistic regressions, fitted on the
tune halves only (even ids / even articles), reported on both halves:

1. the sentence model: P(sentence answers the question) from its evidence
   features; a sentence is positive when it comes from an answering page
   (pydocs) or the gold paragraph (SQuAD) and holds a required string / gold
   answer;
2. the confidence model: P(the answer built from the best sentence is right)
   from the best sentence's score and its margins; an unanswerable question
   answered is wrong.

Prints the weights as Go source for answer/model.go.
"""
import json, re, sys
import numpy as np

OUT = "answer/weights.go"

def norm(s):
    return re.sub(r"\s+", " ", s or "").strip().lower()

PUNCT = re.compile(r"[^\w\s]")
def squad_norm(s):
    s = PUNCT.sub(" ", s.lower())
    s = re.sub(r"\b(a|an|the)\b", " ", s)
    return " " + " ".join(s.split()) + " "

SRC = re.compile(r"(?:^|/)_sources/(.+)\.rst\.txt$")
def page_of(src):
    m = SRC.search(src)
    if m:
        src = src[:m.start()] + "/" + m.group(1) + ".html"
    return src

def page_ok(src, pages):
    s = page_of(src)
    return any(s == p or s.endswith("/" + p) for p in pages)

def load(paths):
    qs, names = [], None
    for path in paths:
        with open(path) as f:
            for i, line in enumerate(f):
                d = json.loads(line)
                if i == 0:
                    names = d["features"]
                    continue
                qs.append(d)
    return qs, names

def window_text(q, c):
    """The answer built on candidate c: it and its neighbours in its passage."""
    same = sorted((d for d in q["cands"] if d["hit"] == c["hit"]), key=lambda d: d["start"])
    i = [d["start"] for d in same].index(c["start"])
    return " ".join(d["text"] for d in same[max(0, i - 1):i + 2])

def right(q, c):
    """Whether the answer built on c is right."""
    if not q["answerable"]:
        return 0
    src, text = q["hits"][c["hit"]], window_text(q, c)
    if q["set"] == "squad":
        t = squad_norm(text)
        return int(src == q["paragraph"] and any(squad_norm(g).strip() and squad_norm(g) in t for g in q["gold"]))
    t = norm(text)
    return int(page_ok(src, q["pages"]) and all(norm(m) in t for m in q["must_contain"]))

def label(q, c):
    src = q["hits"][c["hit"]]
    if not q["answerable"]:
        return 0
    if q["set"] == "squad":
        if src != q["paragraph"]:
            return 0
        t = squad_norm(c["text"])
        return int(any(squad_norm(g).strip() and squad_norm(g) in t for g in q["gold"]))
    if not page_ok(src, q["pages"]):
        return 0
    t = norm(c["text"])
    return int(any(norm(m) in t for m in q["must_contain"]))

def expand(F):
    # interactions the decision needs: coverage matters more on a strong passage
    lex, soft, window, heading, passage, dense, rank, lexrel = (F[:, i] for i in range(8))
    extra = np.stack([lex * lexrel, soft * lexrel, lex * lex, soft * soft, window * heading], axis=1)
    return np.concatenate([F, extra], axis=1)

EXTRA = ["lex*lexrel", "soft*lexrel", "lex^2", "soft^2", "window*heading"]

def fit_lr(X, y, l2=1.0, w=None, iters=50):
    X1 = np.concatenate([np.ones((len(X), 1)), X], axis=1)
    if w is None:
        w = np.ones(len(y))
    beta = np.zeros(X1.shape[1])
    R = l2 * np.eye(X1.shape[1]); R[0, 0] = 0
    for _ in range(iters):
        p = 1 / (1 + np.exp(-X1 @ beta))
        g = X1.T @ (w * (p - y)) + R @ beta
        H = (X1 * (w * p * (1 - p))[:, None]).T @ X1 + R
        step = np.linalg.solve(H, g)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return beta

def predict(beta, X):
    return 1 / (1 + np.exp(-(beta[0] + X @ beta[1:])))

def main():
    qs, names = load(sys.argv[1:])
    names = names + EXTRA
    rows, ys, qi = [], [], []
    for i, q in enumerate(qs):
        for c in q["cands"]:
            c["y"] = right(q, c)
            rows.append(c["f"]); ys.append(c["y"]); qi.append(i)
    F = expand(np.array(rows, dtype=float)); y = np.array(ys, dtype=float); qi = np.array(qi)
    tune_q = np.array([q["half"] == "tune" for q in qs])
    # weigh each set equally: SQuAD has ~10x the questions of pydocs
    nset = {}
    for q in qs:
        nset[q["set"]] = nset.get(q["set"], 0) + 1
    qw = np.array([1000.0 / nset[q["set"]] for q in qs])
    tr = tune_q[qi]
    sent = fit_lr(F[tr], y[tr], l2=1.0, w=qw[qi][tr])
    p = predict(sent, F)
    # per question: best candidate, and its answer
    feats, rights, halves, sets = [], [], [], []
    for i, q in enumerate(qs):
        idx = np.where(qi == i)[0]
        if len(idx) == 0:
            best, p1, p2, pother = None, 0.0, 0.0, 0.0
        else:
            order = idx[np.argsort(-p[idx])]
            best = order[0]; p1 = p[best]
            p2 = p[order[1]] if len(order) > 1 else 0.0
            bh = q["cands"][best - idx[0]]["hit"]
            others = [p[j] for j in order[1:] if q["cands"][j - idx[0]]["hit"] != bh]
            pother = others[0] if others else 0.0
        ok = 0
        bf = list(F[best]) if best is not None else [0.0] * F.shape[1]
        if best is not None:
            ok = right(q, q["cands"][best - idx[0]])
        feats.append([p1, p1 - pother, np.log(p1 + 1e-4)] + bf); rights.append(ok); halves.append(q["half"]); sets.append(q["set"])
    A = np.array(feats); r = np.array(rights, dtype=float); halves = np.array(halves); sets = np.array(sets)
    aw = np.array([1000.0 / nset[s] for s in sets])
    t = halves == "tune"
    conf = fit_lr(A[t], r[t], l2=0.1, w=aw[t])
    pc = predict(conf, A)
    print("sentence model:", {n: round(float(b), 3) for n, b in zip(["bias"] + names, sent)})
    print("confidence model:", [round(float(b), 3) for b in conf])
    for s in sorted(set(sets)):
        for h in ["tune", "confirm"]:
            m = (sets == s) & (halves == h)
            ans = np.array([qs[i]["answerable"] for i in range(len(qs))])[m]
            print(f"{s:9s} {h:7s} n={m.sum():4d} oracle-best-right(answerable)={r[m][ans].mean():.3f}")
            for th in [0.2, 0.3, 0.4, 0.5, 0.6]:
                answered = pc[m] >= th
                hit = (r[m][ans] * answered[ans]).mean()
                abst = (~answered[~ans]).mean() if (~ans).any() else float("nan")
                acc = ((r[m] * answered) + (~ans & ~answered)).mean()
                print(f"    th={th:.1f} hit={hit:.3f} hasans_abstain={(~answered[ans]).mean():.3f} noans_abstain={abst:.3f} acc={acc:.3f}")
    # calibration on confirm halves
    m = halves == "confirm"
    print("calibration (confirm):")
    for lo in np.arange(0, 1, 0.1):
        b = m & (pc >= lo) & (pc < lo + 0.1)
        if b.sum():
            print(f"  [{lo:.1f},{lo+0.1:.1f}) n={b.sum():4d} conf={pc[b].mean():.3f} right={r[b].mean():.3f}")
    go = ["// Code generated by answer/train/fit.py; DO NOT EDIT.", "", "package answer", "",
          "// sentenceWeights: bias, then one weight per feature of expand (model.go).",
          "var sentenceWeights = [...]float64{" + ", ".join("%.6g" % b for b in sent) + "}", "",
          "// confidenceWeights: bias, then p1, p1 - p_other, log(p1 + 1e-4) and the best sentence's expanded features.",
          "var confidenceWeights = [...]float64{" + ", ".join("%.6g" % b for b in conf) + "}", ""]
    open(OUT, "w").write("\n".join(go))
    print("wrote", OUT)

main()
