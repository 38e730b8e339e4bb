export { ConnectEmulator, EMULATOR_DEFAULTS, type EmulatorOptions } from './emulator';
export { EmulatorClient, type ContactView } from './emulator-client';
export type { FaultPlan, OperationFaults } from './faults';
export type { ChatItem, ParticipantRole, Visibility } from './model';
