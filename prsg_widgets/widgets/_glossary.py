"""The glossary: plain-language help for the terms on screen, as the ⓘ popovers of every view
show it (the Python-made HTML of the composite widgets, and the JS views through ``constants.js``).
"""
from __future__ import annotations

import html
import itertools
import secrets

GLOSSARY: dict[str, str] = {
    "OR interaction": "An OR Harsanyi interaction I(S) is the part of the feature that is needed as soon as ANY "
                      "patch of S must be regenerated. The feature minus the baseline is the sum of all of them "
                      "(Eq. 6/7).",
    "feature component": "I(S): one OR Harsanyi interaction, a vector the size of the feature. Removing it from f_N "
                         "changes the image mostly inside its action field.",
    "minimal feature": "f_T: the smallest change of the baseline b that still regenerates every patch of T within "
                       "ε (Eq. 5/10). The components are computed from the 2^n minimal features.",
    "action field": "A(S): the patches of S, outlined in magenta. The component of S is expected to act there.",
    "regional pattern": "Δx_S = g(f_N) − g(f_N − I(S)): what the image loses without the component. Signed: grey is "
                        "0, lighter adds brightness, darker removes it; each tile is scaled to its own max |Δx|.",
    "dense control": "The same pipeline on a random feature of the same shape and statistics (App. I). Its curve "
                     "must be visibly denser than the real components' curves.",
    "epsilon": "ε: the mean squared error each patch of T may keep when f_T regenerates it (images in [-1, 1]).",
    "sqrt epsilon": "√ε: the same tolerance as an RMSE, the dashed line of the RMSE plot.",
    "rho": "ρ(S): share of the regional pattern's L1 mass inside the action field (Sec. 3.2.1). 'area' is what a "
           "pattern spread evenly over the image would get.",
    "transferability": "|A_a ∩ A_b| / k_a: how many of image a's top-k_a action fields are also among image b's "
                       "top-k_b (Sec. 3.4). With few patches (n = 4: 15 action fields) a high ratio is easy — "
                       "compare it with chance.",
    "chance": "The ratio expected if image b's top-k_b action fields were drawn at random: k_b / (2^n − 1).",
    "reconstruction": "x̂ = g(b + the top-k components whose action field meets T). With k = 0 it is g(b), the "
                      "blurry 'average image'; T sharpens as components are added.",
    "sparsity": "Every element of every component, |value| sorted from largest: a curve that falls fast means few "
                "elements carry the components (Fig. 3).",
    "nested": "Nested solving: subsets by increasing size, each bounded below by its smaller subsets — 3–7× fewer "
              "iterations at n = 9 on a CPU, but it also makes random features look sparse.",
    "cancellation": "Σ‖I(S)‖₁ / ‖u(N)‖₁: 1 when components never cancel; ≫ 1 means large components offset each other.",
    "matching error": "Σ_T‖u(T) − û(T)‖² / Σ_T‖u(T)‖² with only the top-k components (Sec. 3.1): small means the "
                      "top components suffice.",
}
"""Plain-language help for the terms on screen (the ⓘ popovers of every view)."""


_INFO_IDS = itertools.count(1)
_INFO_PREFIX = f"prsg-gloss-{secrets.token_hex(3)}"  # ids stay unique across kernels on one page


def info_html(term: str) -> str:
    """An ⓘ that shows the glossary entry ``term`` on hover or focus (``.prsg-info``): a button
    named "about <term>" for screen readers, described by its popover; the views' ``a11yScope``
    (``common.js``) gives it its keys (Enter/Space show or hide the popover, Escape hides it).
    """
    text = html.escape(GLOSSARY[term])
    pop = f"{_INFO_PREFIX}-{next(_INFO_IDS)}"
    name = html.escape(f"about {term}")
    return (f"<span class='prsg-info' tabindex='0' role='button' aria-label='{name}' aria-describedby='{pop}' "
            f"data-term='{html.escape(term)}' title='{text}'>i"
            f"<span class='prsg-pop' role='tooltip' id='{pop}'>{text}</span></span>")
