# %% [markdown]
# # 02 · Common point: which path saw the complained orders?
#
# The card-fraud "common point of compromise" analysis, applied to order data:
# for every candidate path (account, machine, session, USB device, app, IP, export
# event, process) count the complained orders it exposed *before* the scammer called,
# compare with its share of all orders (**lift**) and ask how surprising that overlap
# is by chance (hypergeometric **p-value**, corrected for the number of paths tested).
#
# Label printing touches nearly every order: high coverage, no lift, not the leak.

# %% tags=["parameters"]
CASE = "../datasets/april-trojan"

# %%
from forensics.views import notebook
from forensics.views.widgets import coverage_view, show_table

findings = notebook.open_case(CASE)
TZ = findings.case.timezone()

# %% [markdown]
# ## Coverage against lift
# Pick a level, keep only the significant paths, or keep the paths first exposed
# within some days (their figures are computed over the whole case).

# %%
coverage_view(findings)

# %%
# NBVAL_CHECK_OUTPUT
print(notebook.paths_summary(findings))

# %% [markdown]
# ## The significant paths (as in `findings.json`)

# %%
show_table(notebook.significant_paths(findings), tz=TZ, max_rows=20)

# %% [markdown]
# ## The leak path and why
# Every significant path votes for the kind of leak its nature implies; the kind
# that explains most complaints wins.

# %%
# NBVAL_CHECK_OUTPUT
print(f"leak path: {findings.vector.kind} (confidence {findings.vector.confidence:.2f})")
print("\n".join(findings.vector.rationale))

# %% [markdown]
# ## What was ruled out, and why
# A path that only saw an order after the buyer was called, or cannot show the
# fields the scammer quoted, cannot explain that complaint; a path that saw most
# complained orders but no more than its share of all orders is a common path.

# %%
# NBVAL_CHECK_OUTPUT
print("\n".join(findings.ruled_out) or "nothing ruled out")
