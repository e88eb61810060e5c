"""What an investigator looks at: charts, notebook widgets and helpers.

- :mod:`.charts`: plotly figures of the findings, and their static export
- :mod:`.widgets`: ipywidgets views the notebooks use
- :mod:`.notebook`: small helpers that keep the notebooks' cells thin
- :mod:`.nbtools`: keep the walkthrough notebooks reviewable and checked
  (``python -m forensics.views.nbtools refresh``)
"""

__all__: list[str] = []
