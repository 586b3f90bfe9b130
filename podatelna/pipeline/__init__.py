"""The pipeline: dramatiq actors for the stages, a transactional outbox, and a sweeper."""

from podatelna.pipeline.stages import RUNNERS, STAGE_FOR_STATE, STAGES

__all__ = ["RUNNERS", "STAGES", "STAGE_FOR_STATE"]
