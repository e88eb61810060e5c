# %% [markdown]
# # 03 · Timeline: one clock, every source
#
# Logins, order access, endpoint events, badge swipes and camera sightings on one
# timeline, on the back-office clock. A camera marked `clock = "unsynchronized"` may
# run minutes off: its offset is estimated by aligning sightings with USB connections,
# logins and badge swipes on the same desk, and removed before anything is compared.
#
# Anomalies (off-hours presence, USB devices, new hires' first days, ...) are marked.

# %% tags=["parameters"]
CASE = "../datasets/april-trojan"

# %%
from forensics.views import notebook
from forensics.views.widgets import show_table, timeline_view

findings = notebook.open_case(CASE)
TZ = findings.case.timezone()
top = findings.suspects[0].person_id if findings.suspects else None

# %% [markdown]
# ## The clock offset

# %%
# NBVAL_CHECK_OUTPUT
print(notebook.clock_summary(findings))

# %% [markdown]
# Camera sightings of a device being inserted: as recorded, as corrected, and the
# USB connection the endpoint log shows on the same machine.

# %%
show_table(notebook.clock_comparison(findings, person=top), max_rows=10)

# %% [markdown]
# ## The timeline
# Choose a person, a machine and days; the top suspect (if any) is preselected.

# %%
timeline_view(findings, person=top)

# %% [markdown]
# ## Anomalies of the suspects
# Indicators never name a person by themselves; they only weigh on people the
# evidence already links to the leak path.

# %%
show_table(notebook.anomalies(findings), tz=TZ, max_rows=20)
