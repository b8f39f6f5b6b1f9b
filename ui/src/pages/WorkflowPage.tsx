export { WorkflowPage } from "./workflow/WorkflowPage";
