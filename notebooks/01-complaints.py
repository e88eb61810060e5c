# %% [markdown]
# # 01 · Complaints: is there a spike, and which orders does it point at?
#
# Shops receive scam complaints all the time: buyers' data leaks elsewhere too.
# A leak from the shop shows as a **spike** of complaints above that background.
# The complained orders are the evidence every later step tests paths against,
# and the spike bounds the **leak window** from the other side: the leak began
# before the first scam call of the spike.
#
# Personal data (buyer names, phones, addresses) stays masked unless `REVEAL = True`;
# complaint text is the buyers' own words and is shown escaped, never as HTML.

# %% tags=["parameters"]
CASE = "../datasets/april-trojan"
REVEAL = False

# %%
from forensics.views import charts, notebook
from forensics.views.widgets import show_table

findings = notebook.open_case(CASE)
TZ = findings.case.timezone()

# %% [markdown]
# ## Complaints per day against the background
# The background is a Poisson rate estimated from the quiet days; a day is part of
# the spike when that rate cannot explain its count.

# %%
charts.complaint_spike(findings)

# %%
# NBVAL_CHECK_OUTPUT
print(notebook.complaint_summary(findings))

# %% [markdown]
# ## The complained orders (masked)
# A complaint names its order, or only the buyer: then every earlier order of that
# buyer is a candidate. `quoted_fields` is what the scammer knew, which later rules
# out paths that could not have shown those fields.

# %%
show_table(notebook.complained_orders(findings), reveal=REVEAL, tz=TZ, max_rows=15)

# %% [markdown]
# ## Leak window
# From the first moment the leak path could expose orders to its last exposure
# (`open` when it may still be running). The next notebooks show how it was found.

# %%
# NBVAL_CHECK_OUTPUT
print(notebook.leak_window(findings))
