"""The generators: everything ``aivitals build`` writes from the catalogue.

Recording and alerting rules with their promtool tests and runbooks
(``rules``), the Grafana dashboards (``dashboards``, the only importer of
grafana-foundation-sdk), docs/vitals.md (``docs``), the Helm chart's copies
and README (``chart``, ``chart_docs``), and ``build``, which runs them all.
``promserver`` starts a local Prometheus on the generated rules for the demo
and the tests. Nothing on the SDK's hot path imports this package.
"""
