/** ARM error responses: {"error":{"code","message","target"?,"details"?}}. */

export interface ArmErrorBody {
  code: string;
  message: string;
  target?: string;
  details?: ArmErrorBody[];
}

export class ArmError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly target?: string,
    readonly details?: ArmErrorBody[],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  toBody(): { error: ArmErrorBody } {
    const error: ArmErrorBody = { code: this.code, message: this.message };
    if (this.target !== undefined) error.target = this.target;
    if (this.details !== undefined) error.details = this.details;
    return { error };
  }
}

export const notFound = (type: string, name: string, resourceGroup: string): ArmError =>
  new ArmError(404, 'ResourceNotFound', `The Resource '${type}/${name}' under resource group '${resourceGroup}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`);

export const resourceGroupNotFound = (rg: string): ArmError => new ArmError(404, 'ResourceGroupNotFound', `Resource group '${rg}' could not be found.`);

export const invalidParameter = (message: string, target?: string): ArmError => new ArmError(400, 'InvalidParameter', message, target);

export const badRequest = (message: string, target?: string): ArmError => new ArmError(400, 'BadRequest', message, target);

export const operationNotAllowed = (message: string, target?: string, details?: ArmErrorBody[]): ArmError => new ArmError(409, 'OperationNotAllowed', message, target, details);

export const conflict = (message: string): ArmError => new ArmError(409, 'Conflict', message);

export const invalidRequestContent = (message: string): ArmError => new ArmError(400, 'InvalidRequestContent', message);
