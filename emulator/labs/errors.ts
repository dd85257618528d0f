/** `runLab` was given a name that is not one of LAB_NAMES. */
export class UnknownLabError extends Error {
  override name = 'UnknownLabError';
}

/** A notebook cell failed (as it would in Jupyter); the replay stops there. */
export class LabStepError extends Error {
  override name = 'LabStepError';
}
