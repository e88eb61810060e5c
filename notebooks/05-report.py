# %% [markdown]
# # 05 · Report: findings, charts and report.html
#
# Everything goes to an output folder **outside** the case folder: the case is
# evidence and is never written to. Personal data stays masked unless `REVEAL = True`.
# Add `"png"`, `"svg"` or `"pdf"` to `FORMATS` for static images (they need Chrome
# for kaleido).

# %% tags=["parameters"]
CASE = "../datasets/april-trojan"
OUT = "../out/notebook-report"
REVEAL = False
FORMATS = ("html",)

# %%
from forensics.response import report
from forensics.views import charts, notebook

findings = notebook.open_case(CASE)
out = notebook.output_folder(OUT, CASE)

# %%
# NBVAL_CHECK_OUTPUT
print(notebook.headline(findings))

# %% [markdown]
# ## findings.json and the charts

# %%
(out / "findings.json").write_text(findings.to_json(), encoding="utf-8")
written = ["findings.json"]
for name, figure in notebook.figures(findings).items():
    written += [p.name for p in charts.export(figure, out / name, formats=FORMATS)]

# %% [markdown]
# ## report.html
# A self-contained page with the same findings, masked and escaped.

# %%
page = report.build_report(findings, reveal=REVEAL)
(out / "report.html").write_text(page, encoding="utf-8")
written.append("report.html")
phones = findings.case.orders["phone"].drop_nulls()
assert REVEAL or not any(p in page for p in phones), "an unmasked phone number in the report"

# %%
# NBVAL_CHECK_OUTPUT
print("\n".join(sorted(written)))
