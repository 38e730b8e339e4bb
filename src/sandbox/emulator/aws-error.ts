import type { Response } from 'express';

/**
 * An error as AWS services send it: HTTP status, `x-amzn-errortype: <Name>` and a JSON body
 * with `Message`. The SDK turns the name into its typed exception.
 */
export class AwsError extends Error {
  constructor(
    readonly errorType: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = errorType;
  }

  send(res: Response): void {
    res
      .status(this.status)
      .set('x-amzn-errortype', this.errorType)
      .set('x-amzn-requestid', crypto.randomUUID())
      .json({ Message: this.message, message: this.message });
  }
}

/** Errors of the Amazon Connect service (restJson1). */
export const ConnectErrors = {
  invalidRequest: (message: string) => new AwsError('InvalidRequestException', 400, message),
  invalidParameter: (message: string) => new AwsError('InvalidParameterException', 400, message),
  resourceNotFound: (message: string) => new AwsError('ResourceNotFoundException', 404, message),
  limitExceeded: (message: string) => new AwsError('LimitExceededException', 429, message),
  throttling: () => new AwsError('ThrottlingException', 429, 'Rate exceeded'),
  internal: () => new AwsError('InternalServiceException', 500, 'Internal service error'),
  accessDenied: (message: string) => new AwsError('AccessDeniedException', 403, message),
};

/** Errors of the Amazon Connect Participant Service (restJson1). */
export const ParticipantErrors = {
  accessDenied: (message = 'Access denied') => new AwsError('AccessDeniedException', 403, message),
  validation: (message: string) => new AwsError('ValidationException', 400, message),
  conflict: (message: string) => new AwsError('ConflictException', 409, message),
  resourceNotFound: (message: string) => new AwsError('ResourceNotFoundException', 404, message),
  quotaExceeded: (message: string) => new AwsError('ServiceQuotaExceededException', 402, message),
  throttling: () => new AwsError('ThrottlingException', 429, 'Rate exceeded'),
  internal: () => new AwsError('InternalServerException', 500, 'Internal server error'),
};
