export { ticketExportWorkflow } from './ticket-export';
