import type { ConnectEmulator } from '../../src/sandbox/emulator';
import { eventually } from '../../src/sandbox/eventually';
import { sendGenericMessage } from '../../src/sandbox/generic-customer';

export interface GenericCustomersOptions {
  /** Read when used: suites assign their bridge and emulator in beforeAll. */
  bridgeUrl: () => string;
  emulator: () => ConnectEmulator;
  secret: string;
  businessAddress: string;
  /** Customers are numbered from here, so suites sharing a Redis never meet. */
  firstNumber: number;
}

/** Customers writing through the generic channel, and what the Connect emulator got from them. */
export function genericCustomers(options: GenericCustomersOptions) {
  let count = 0;
  const newCustomer = () => `+1555${String(options.firstNumber + (count += 1)).slice(-7)}`;
  const contactsOf = (customer: string) =>
    options
      .emulator()
      .center.list()
      .filter((contact) => contact.attributes.customerAddress === customer);
  const customerTexts = (customer: string) =>
    contactsOf(customer).flatMap((contact) =>
      contact.transcript
        .filter((item) => item.ParticipantRole === 'CUSTOMER' && item.Type === 'MESSAGE')
        .map((item) => item.Content),
    );
  /** Posts `text of <messageId>`; the bridge must take it (200). */
  const post = async (customer: string, messageId: string) => {
    const res = await sendGenericMessage(options.bridgeUrl(), options.secret, {
      messageId,
      from: customer,
      to: options.businessAddress,
      text: `text of ${messageId}`,
    });
    if (res.status !== 200) throw new Error(`the bridge answered ${res.status}`);
  };
  /** A customer writes; answers the live contact once the message is at Connect. */
  const customerWrites = async (customer: string, messageId: string) => {
    await post(customer, messageId);
    await eventually(
      `${messageId} at Connect`,
      () => customerTexts(customer).includes(`text of ${messageId}`),
      20_000,
    );
    return contactsOf(customer).find((contact) => contact.endedAt === undefined)!;
  };
  return { newCustomer, contactsOf, customerTexts, post, customerWrites };
}
