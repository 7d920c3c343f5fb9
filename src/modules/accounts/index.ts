// Customer accounts: a read model gathering a customer's questionnaires, NDA state and trust-page
// activity by e-mail domain. Owns the accounts and account_questionnaires tables.
export { createAccount, getAccount, listAccounts, type AccountInput } from './service.js';
