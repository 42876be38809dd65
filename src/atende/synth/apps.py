from django.apps import AppConfig


class SynthConfig(AppConfig):
    """Synthetic data for benchmarks and the demo: occurrences with their whole histories
    (``atende synth``) and beneficiaries. A tool of ours, not a domain: no models."""

    name = "atende.synth"
    label = "synth"
    verbose_name = "Synthetic data"
